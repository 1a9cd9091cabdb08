"""Towns and kinds the benchmarks' generated workspaces and sheets are made of."""

TOWNS = (  # (town, country, lat, lon)
    ("Roscommon", "IE", 53.6333, -8.1833), ("Ballaghaderreen", "IE", 53.9013, -8.5751),
    ("Galway", "IE", 53.2707, -9.0568), ("Karlshamn", "SE", 56.1706, 14.8619),
    ("Karlskrona", "SE", 56.1612, 15.5869), ("Borås", "SE", 57.7210, 12.9401),
    ("Łódź", "PL", 51.7592, 19.4560), ("Szczecin", "PL", 53.4285, 14.5528),
    ("Rostock", "DE", 54.0887, 12.1405), ("Rietavas", "LT", 55.7250, 21.9333),
)
KINDS = ("co-working", "incubator", "studio", "college", "course", "mentoring", "cluster", "festival")
