"""Colours, labels and sizes shared by every map: colour-blind-safe, readable on a projector.

Layer colours are from the Okabe–Ito palette (distinguishable with the common colour
vision deficiencies). Existing facilities are solid discs; planned ones are hollow
rings (white centre, thick coloured edge) so they differ by shape, not by colour alone.
"""
from __future__ import annotations

from i18n import N_, gettext
from loaders.layers import HUBS, NETWORKS, TRAINING, UNCLASSIFIED

RGB = tuple[int, int, int]
RGBA = list[int]

LAYER_RGB: dict[str, RGB] = {
    HUBS: (0, 114, 178),          # blue
    TRAINING: (230, 159, 0),      # orange
    NETWORKS: (0, 158, 115),      # bluish green
    UNCLASSIFIED: (110, 110, 110),  # grey
}
# English, as the code compares them; `layer_label` gives them in the reader's language.
LAYER_LABELS: dict[str, str] = {
    HUBS: N_("Hubs & infrastructure"),
    TRAINING: N_("Training & supports"),
    NETWORKS: N_("Networks"),
    UNCLASSIFIED: N_("Unclassified"),
}
BOUNDARY_RGB: RGB = (30, 30, 30)
GAP_RGB: RGB = (213, 94, 0)        # vermillion: areas out of reach
SITE_RGB: RGB = (204, 121, 167)    # reddish purple: suggested new sites
SETTLEMENT_RGB: RGB = (70, 70, 70)
WHITE: RGB = (255, 255, 255)

# Sequential ramp for "distance to the nearest facility" (cividis-like: dark blue → yellow,
# readable with colour vision deficiencies and in greyscale). Stops in km.
DISTANCE_STOPS_KM: tuple[float, ...] = (0, 5, 10, 20, 30, 50)
DISTANCE_RGB: tuple[RGB, ...] = (
    (0, 34, 78), (50, 69, 107), (102, 105, 112), (149, 143, 120), (203, 186, 105), (253, 231, 55),
)

# Sequential ramp for "share of people within reach" per area (0 → 100 %): from vermillion-ish
# light (few covered) to dark teal (all covered), five classes, readable in greyscale.
SHARE_STOPS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
SHARE_RGB: tuple[RGB, ...] = (
    (254, 235, 226), (251, 180, 185), (197, 148, 190), (102, 123, 179), (23, 74, 117),
)
NO_DATA_RGB: RGB = (220, 220, 220)

POINT_RADIUS_PX = 7.0
POINT_EDGE_PX = 1.5
PLANNED_EDGE_PX = 3.0


def layer_label(layer: str) -> str:
    """The name readers see for a layer id, in the current language ("Utbildning & stöd"); other ids as they are."""
    label = LAYER_LABELS.get(layer)
    return gettext(label) if label else str(layer)


# The canonical values of `loaders.vocabulary` (kinds, sectors), the statuses and the boundary sources,
# as readers see them: English here, translated by the functions below. Stored and filtered values stay
# canonical; anything else (text a user typed that matched no canonical value) is shown as it is.
KIND_LABELS: dict[str, str] = {k: k for k in (
    N_("co-working space"), N_("makerspace"), N_("incubator"), N_("science park"), N_("studio"),
    N_("creative hub"), N_("arts centre"), N_("enterprise centre"), N_("empty building"), N_("university"),
    N_("further education"), N_("arts school"), N_("course"), N_("enterprise office"), N_("mentoring"),
    N_("grant"), N_("cluster"), N_("network"), N_("association"), N_("foundation"), N_("meet-up"),
    N_("festival"), N_("online community"), N_("library"), N_("museum"), N_("gallery"), N_("venue"),
    N_("cinema"),
)}
SECTOR_LABELS: dict[str, str] = {s: s for s in (
    N_("architecture"), N_("design"), N_("games"), N_("film"), N_("photography"), N_("visual arts"),
    N_("heritage"), N_("literature"), N_("media"), N_("fashion"), N_("music"), N_("performing arts"),
    N_("crafts"), N_("experience-based learning"), N_("advertising"), N_("broadcasting"), N_("software"),
    N_("publishing"), N_("digital"), N_("all"),
)}
# The layers' short names in running text ("radii: hubs 20 km"), as atlas.dashboard.LAYER_SHORT.
LAYER_SHORT_LABELS: dict[str, str] = {HUBS: N_("hubs"), TRAINING: N_("training"), NETWORKS: N_("networks"),
                                      UNCLASSIFIED: N_("unclassified")}
STATUS_LABELS: dict[str, str] = {"existing": N_("existing"), "planned": N_("planned")}
BOUNDARY_SOURCE_LABELS: dict[str, str] = {
    "imported": N_("imported"), "official": N_("official"), "approximate": N_("approximate"), "none": N_("none"),
}


def _label(labels: dict[str, str], value: object) -> str:
    text = "" if value is None else str(value)
    found = labels.get(text)
    return gettext(found) if found else text


def kind_label(kind: object) -> str:
    """A canonical kind in the reader's language ("coworkingyta"); a kind the vocabulary lacks as written."""
    return _label(KIND_LABELS, kind)


def sector_label(sector: object) -> str:
    """A canonical sector in the reader's language ("hantverk"); any other sector as written."""
    return _label(SECTOR_LABELS, sector)


def layer_short_label(layer: object) -> str:
    """A layer's short name in running text ("hubs", "nav", "huby"); other ids as they are."""
    return _label(LAYER_SHORT_LABELS, layer)


def status_label(status: object) -> str:
    """``existing`` / ``planned`` in the reader's language; anything else as it is."""
    return _label(STATUS_LABELS, status)


def boundary_source_label(source: object) -> str:
    """Where a region's boundary came from (``imported``, ``official``, ``approximate``) in the reader's language."""
    return _label(BOUNDARY_SOURCE_LABELS, source)


def rgba(rgb: RGB, alpha: int = 255) -> RGBA:
    """Return ``[r, g, b, a]`` for deck.gl."""
    return [int(rgb[0]), int(rgb[1]), int(rgb[2]), int(alpha)]


def hex_colour(rgb: RGB) -> str:
    """Return ``#rrggbb`` for HTML."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def point_style(layer: str, planned: bool) -> dict[str, RGBA | float]:
    """Return fill, edge colour and edge width (px) for a facility point of `layer`.

    Existing: solid layer colour with a thin white edge (separates overlapping points).
    Planned: a white, slightly transparent centre with a thick layer-coloured ring.
    """
    colour = LAYER_RGB.get(layer, LAYER_RGB[UNCLASSIFIED])
    if planned:
        return {"fill": rgba(WHITE, 210), "line": rgba(colour), "width": PLANNED_EDGE_PX}
    return {"fill": rgba(colour, 235), "line": rgba(WHITE), "width": POINT_EDGE_PX}


def _ramp(value: float, stops: tuple[float, ...], colours: tuple[RGB, ...]) -> RGB:
    """The colour at `value`, linear between the stops, clamped at both ends."""
    if value <= stops[0]:
        return colours[0]
    for i in range(1, len(stops)):
        if value <= stops[i]:
            t = (value - stops[i - 1]) / (stops[i] - stops[i - 1])
            a, b = colours[i - 1], colours[i]
            return tuple(int(round(a[j] + t * (b[j] - a[j]))) for j in range(3))  # type: ignore[return-value]
    return colours[-1]


def distance_rgb(km: float) -> RGB:
    """Return the ramp colour for a distance in km (linear between stops, clamped)."""
    if km != km or km == float("inf"):  # NaN / no facility at all: the far end
        return DISTANCE_RGB[-1]
    return _ramp(km, DISTANCE_STOPS_KM, DISTANCE_RGB)


def share_rgb(share: float) -> RGB:
    """Return the choropleth colour of a share in 0..1 (grey for no data: an area without people)."""
    if share != share:
        return NO_DATA_RGB
    return _ramp(min(max(float(share), 0.0), 1.0), SHARE_STOPS, SHARE_RGB)
