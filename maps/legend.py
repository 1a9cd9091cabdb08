"""The map legend as data and as a small HTML block (large for the projector)."""
from __future__ import annotations

from html import escape

from i18n import N_, formats
from i18n import gettext as _
from maps.style import (
    BOUNDARY_RGB,
    DISTANCE_RGB,
    DISTANCE_STOPS_KM,
    GAP_RGB,
    LAYER_RGB,
    SHARE_RGB,
    SITE_RGB,
    boundary_source_label,
    hex_colour,
    layer_label,
)

# The copyright notices the shipped and downloaded GISCO boundaries carry (geography.gisco), marked so
# that the legend shows them in the reader's language; any other attribution is shown as given.
ATTRIBUTIONS = (
    N_("© EuroGeographics for the administrative boundaries (Eurostat GISCO, NUTS 2021, 1:1 million)"),
    N_("© EuroGeographics for the administrative boundaries (Eurostat GISCO, NUTS 2021, 1:20 million)"),
)

# Legend symbol kinds: "dot" (existing facility), "ring" (planned), "line", "dashed",
# "area" (translucent polygon), "ramp" (the distance colour scale).


def legend_items(
    layers: list[str] | tuple[str, ...],
    *,
    planned: bool = True,
    boundary_source: str | None = None,
    discs: bool = False,
    gaps: bool = False,
    uncovered: bool = False,
    h3_layer: str | None = None,
    sites: bool = False,
    area_layer: str | None = None,
    area_shares: bool = False,
    attribution: str = "",
    catchments: tuple[str, ...] | list[str] = (),
) -> list[dict]:
    """Return the legend entries for what the map shows: ``{"label", "colour", "symbol"}``, in the current language."""
    items = []
    for layer in layers:
        colour = hex_colour(LAYER_RGB[layer])
        items.append({"label": layer_label(layer), "colour": colour, "symbol": "dot"})
    if planned and layers:
        items.append({"label": _("Planned (hollow ring, layer colour)"), "colour": hex_colour(LAYER_RGB[layers[0]]),
                      "symbol": "ring"})
    if discs:
        items.append({"label": _("Within reach (coverage radius)"), "colour": hex_colour(LAYER_RGB[layers[0]])
                      if layers else "#888888", "symbol": "area"})
    if gaps:
        items.append({"label": _("Gap area (out of reach)"), "colour": hex_colour(GAP_RGB), "symbol": "area"})
    if uncovered:
        items.append({"label": _("Town out of reach"), "colour": hex_colour(GAP_RGB), "symbol": "ring"})
    for layer in catchments:
        items.append({"label": _("Catchment: the area nearest each of the {layer}").format(
                          layer=layer_label(layer).lower()),
                      "colour": hex_colour(LAYER_RGB[layer]), "symbol": "area"})
    if sites:
        items.append({"label": _("Suggested new site"), "colour": hex_colour(SITE_RGB), "symbol": "dot"})
    if h3_layer:
        items.append({"label": _("Distance to nearest ({layer}): {low}–{high}+ km").format(
                          layer=layer_label(h3_layer).lower(), low=formats.number(DISTANCE_STOPS_KM[0]),
                          high=formats.number(DISTANCE_STOPS_KM[-1])),
                      "colour": [hex_colour(c) for c in DISTANCE_RGB], "symbol": "ramp"})
    if area_shares:
        scale = f"{formats.number(0)}–{formats.percent(1)}"
        label = (_("Share of an area's people within reach of {layer}: {scale}").format(
                     layer=layer_label(area_layer).lower(), scale=scale) if area_layer else
                 _("Share of an area's people with full support: {scale}").format(scale=scale))
        items.append({"label": label, "colour": [hex_colour(c) for c in SHARE_RGB], "symbol": "ramp"})
    if boundary_source:
        approximate = boundary_source == "approximate"
        items.append({"label": _("Region boundary ({source})").format(source=boundary_source_label(boundary_source)),
                      "colour": hex_colour(BOUNDARY_RGB), "symbol": "dashed" if approximate else "line"})
    if attribution:
        items.append({"label": _(attribution) if attribution in ATTRIBUTIONS else attribution, "colour": "",
                      "symbol": "note"})
    return items


def _symbol(item: dict, size: int) -> str:
    c = item["colour"]
    s = size
    if item["symbol"] == "dot":
        return (f'<span style="display:inline-block;width:{s}px;height:{s}px;border-radius:50%;'
                f'background:{c};border:2px solid #fff;box-shadow:0 0 0 1px {c}"></span>')
    if item["symbol"] == "ring":
        return (f'<span style="display:inline-block;width:{s - 4}px;height:{s - 4}px;border-radius:50%;'
                f'background:#fff;border:{max(3, s // 5)}px solid {c}"></span>')
    if item["symbol"] in ("line", "dashed"):
        style = "dashed" if item["symbol"] == "dashed" else "solid"
        return f'<span style="display:inline-block;width:{s * 1.6:.0f}px;border-top:3px {style} {c}"></span>'
    if item["symbol"] == "ramp":
        stops = ", ".join(c)
        return (f'<span style="display:inline-block;width:{s * 3}px;height:{s // 1.5:.0f}px;'
                f'background:linear-gradient(to right, {stops})"></span>')
    return (f'<span style="display:inline-block;width:{s}px;height:{s}px;background:{c}44;'
            f'border:2px solid {c}"></span>')


def legend_html(items: list[dict], *, large: bool = False) -> str:
    """Return the legend as HTML (labels escaped); `large` for reading across a room."""
    size = 30 if large else 14
    font = "1.6rem" if large else "0.9rem"
    rows = "".join(
        f'<div class="atlas-attribution" style="font-size:0.75em;color:#555;margin-top:{size // 3}px">'
        f'{escape(item["label"])}</div>' if item["symbol"] == "note" else
        f'<div style="display:flex;align-items:center;gap:{size // 2}px;margin:{size // 5}px 0">'
        f'{_symbol(item, size)}<span>{escape(item["label"])}</span></div>'
        for item in items
    )
    return f'<div class="atlas-legend" style="font-size:{font};line-height:1.3">{rows}</div>'
