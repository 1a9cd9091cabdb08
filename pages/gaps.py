"""Gaps: radii per layer, coverage figures, towns beyond reach, and where k new sites would help most."""
from __future__ import annotations

import hashlib

import streamlit as st

import maps
import ui
from access import SAVE_SITE
from analysis.coverage import sectors_in
from analysis.gaps import uncovered
from atlas.dashboard import (
    area_table,
    planned_near,
    share_text,
    site_key,
    sites_table,
    siting_sentence,
    suggested_site_feature,
    uncovered_table,
)
from i18n import formats, ngettext, tr
from i18n import gettext as _
from loaders.layers import LAYERS
from maps.style import layer_label, layer_short_label, sector_label
from maps.text import markdown_text as md


def travel_gaps(network: dict, mode: str, minutes: tuple[tuple[str, float], ...], *, planned: bool, focus: str,
                sector: str, k: int) -> None:
    """The page in minutes of travel by `mode` on the region's street network (the km page's figures, tables, map)."""
    from analysis.travel import uncovered as uncovered_minutes
    from atlas.travel_views import mode_phrase, off_network_table, reach_text
    from geography.network import assumptions

    key, sha, limit = ctx.key(), network["sha256"], dict(minutes)
    try:
        bound = ui.boundary(*key)
        result = ui.travel_coverage(*key, sha, mode, minutes, planned, sector)
        rep = ui.travel_report(*key, sha, mode, minutes, planned, sector)
        st.caption(_("Share of the population within reach by travel time: {limits}.").format(
            limits=", ".join(f"{layer_short_label(layer)} {reach_text(limit[layer], mode)}" for layer in LAYERS)))
        figures = st.columns(5)
        for col, layer in zip(figures, LAYERS):
            col.metric(metric_label(layer),
                       share_text(rep["layers"][layer]["coverage_share"]),
                       help=_("{count} {kind} are not {reach} of {layer}.").format(
                           count=formats.number(result.layers[layer]["uncovered_settlements"]),
                           kind=kind_name(rep["demand"]["kind"]), reach=reach_text(limit[layer], mode),
                           layer=layer_label(layer).lower()))
        figures[3].metric(_("Full support"), share_text(rep["full_support_share"]),
                          help=_("Within reach of all three layers (travel time {mode}).").format(mode=mode_phrase(mode)))
        figures[4].metric(_("Population"), formats.number(result.population))
        if warning := rep["demand"].get("warning"):
            st.warning(md(tr(warning)), icon=":material/groups:")
        siting = ui.travel_siting(*key, sha, mode, focus, limit[focus], k, planned, sector) if k else None
        sites = siting.sites if siting is not None else []
        places = ui.travel_coverage(*key, sha, mode, minutes, planned, sector, towns_only=True)
        towns = uncovered_minutes(places)
        content = maps.MapContent(
            facilities=ui.facility_map(*key, (focus,), include_planned=planned, sector=sector),
            boundary=bound.geometry, boundary_source=bound.source, settlements=ui.towns(*key),
            isochrones=ui.isochrones(ctx.path, ctx.stamp, sha, mode, focus, limit[focus], planned, sector),
            uncovered=places.settlements[~places.settlements[f"covered_{focus}"]], sites=sites, sites_layer=focus,
            attribution=bound.attribution,
        )
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, height_px=520), height=520, key="gaps.deck")
        legend_col.html(maps.legend_html(maps.atlas_legend(content)))
        described = rep["network"]
        st.caption(_("Minutes of travel {mode} on the street network {file} ({nodes} nodes, {edges} edges); a place "
                     "joins the nearest road node within {snap} m. {boundary}. Demand: {source} ({count} {kind}).").format(
            mode=mode_phrase(mode), file=md(network["file"]), nodes=formats.number(described["nodes"]),
            edges=formats.number(described["edges"]), snap=formats.number(described["snap_limit_m"]),
            boundary=md(tr(bound.label)[:1].upper() + tr(bound.label)[1:]),
            source=md(demand_name(rep["demand"]["source"])), count=formats.number(rep["demand"]["settlements"]),
            kind=kind_name(rep["demand"]["kind"])))
        with st.expander(_("Speeds assumed {mode}").format(mode=mode_phrase(mode))):
            stated = assumptions(mode)
            st.dataframe({_("road class"): list(stated["speeds_kmh"]), _("km/h"): list(stated["speeds_kmh"].values())},
                         hide_index=True)
            st.caption(_("Tagged maxspeed used: {maxspeed}. One-way streets obeyed: {oneway}. Left out: {excluded}. "
                         "Pieces of network under {nodes} nodes are dropped.").format(
                maxspeed=_("yes") if stated["maxspeed_used"] else _("no"),
                oneway=_("yes") if stated["oneway_obeyed"] else _("no"),
                excluded=", ".join(stated["excluded_classes"]), nodes=stated["min_component_nodes"]))
        off = rep["off_network"]
        st.subheader(_("Off the network ({count})").format(count=off["points"]))
        st.caption(_("{count} {kind} ({people} people) lie more than {snap} m from the {mode} network: they count as "
                     "not covered, never dropped.").format(
            count=formats.number(off["points"]), kind=kind_name(rep["demand"]["kind"]),
            people=formats.number(off["population"]), snap=formats.number(described["snap_limit_m"]),
            mode=mode_phrase(mode)))
        st.dataframe(off_network_table(result.off_network), hide_index=True, width="stretch", height=200,
                     key="gaps.off_network")
        far = ui.travel_facilities_off(*key, sha, mode, planned, sector)
        if len(far):
            st.caption(_("{count} of the region's facilities lie off the network and serve nobody:").format(
                count=len(far)))
            st.dataframe(far, hide_index=True, width="stretch", key="gaps.off_network_facilities")

        left, right = st.columns([3, 2])
        with left:
            table = uncovered_table(towns, layer=focus, unit="min")
            st.subheader(_("Towns not {reach} of {layer} ({count})").format(
                reach=reach_text(limit[focus], mode), layer=layer_label(focus).lower(),
                count=formats.number(len(table))))
            st.dataframe(shown_towns(table), hide_index=True, width="stretch", height=320)
        with right:
            st.subheader(_("{count} suggested new site(s) {reach}").format(count=len(sites),
                                                                          reach=reach_text(limit[focus], mode)))
            if sites:
                st.dataframe(shown_sites(sites_table(sites)), hide_index=True, width="stretch",
                             column_config={c: st.column_config.NumberColumn(format="%.4f") for c in (_("lat"), _("lon"))})
                st.caption(md(siting_sentence(siting)) + " " + md(tr(siting.method)) + ". "
                           + " ".join(md(tr(n)) for n in siting.notes))
                site_picker(sites, focus)
            else:
                no_sites(k, _("No new site adds anyone: everyone a candidate site could reach is already {reach} of "
                              "{layer}.").format(reach=reach_text(limit[focus], mode), layer=layer_label(focus).lower()))
        saved_site()
    except ui.USER_ERRORS as exc:
        st.error(md(exc))


def no_sites(k: int, nobody_helped: str) -> None:
    """Say why no site is suggested: none was asked for, or (`nobody_helped`) none would reach anyone new."""
    st.caption(nobody_helped if k else _("Set 'New sites to suggest' above 0 to search for sites."))


def saved_site() -> None:
    """The message of a site just saved (shown once, after the rerun the save caused)."""
    if st.session_state.get(ui.SAVED_SITE):
        st.success(st.session_state.pop(ui.SAVED_SITE))


def metric_label(layer: str) -> str:
    """A coverage figure's label, short enough for a fifth of a 1280 px page ("Hubs coverage")."""
    text = _("{layer} coverage").format(layer=layer_short_label(layer))
    return text[:1].upper() + text[1:]


def kind_name(kind: str) -> str:
    """What the demand points are ("settlements", "grid cells"), in the reader's language."""
    return _(kind)


def demand_name(source: str) -> str:
    """The demand's source as readers see it: the built-in GeoNames settlements translated, a layer's name as is."""
    return _(ui.GEONAMES_LABEL) if source == "geonames" else source


def shown_towns(table):
    """`uncovered_table` with its columns named in the reader's language (the values stay as they are)."""
    names = {"town": _("town"), "population": _("population"), "missing": _("missing")}
    names.update({f"{layer} km": _("{layer} km").format(layer=layer_short_label(layer)) for layer in LAYERS})
    names.update({f"{layer} min": _("{layer} min").format(layer=layer_short_label(layer)) for layer in LAYERS})
    names["on network"] = _("on network")
    shown = table.rename(columns=names)
    shown[_("missing")] = [", ".join(layer_short_label(m) for m in str(v).split(", ") if m) for v in table["missing"]]
    return shown


def shown_sites(table):
    """`sites_table` with its columns named in the reader's language."""
    return table.rename(columns={"near": _("near"), "adds people": _("adds people"), "lat": _("lat"),
                                 "lon": _("lon"), "planned nearby": _("planned nearby")})


def site_picker(sites: list[dict], focus: str) -> None:
    """Pick a suggested site and save it as a planned facility of `focus` (editors only).

    Chosen by identity, not rank: when the list changes (another radius or travel time, planned
    sites counted), the picker is a new widget, so a stale choice can never save another site.
    """
    if not ctx.can(SAVE_SITE):
        return
    by_key = {site_key(site): site for site in sites}
    ranks = {key: rank for rank, key in enumerate(by_key, start=1)}
    choice = st.selectbox(_("Suggested site"), list(by_key),
                          key="gaps.pick." + hashlib.sha1("|".join(by_key).encode()).hexdigest()[:12],
                          format_func=lambda key: _("{rank}: near {town}").format(rank=ranks[key],
                                                                                 town=by_key[key]["name"]))
    if st.button(_("Add to the workspace as a planned facility"), key="gaps.add", type="primary"):
        site = by_key[choice]
        row = suggested_site_feature(site, layer=focus, country=ctx.region.countries[0])
        ctx.workspace.add_features(row, summary=f"saved suggested site near {site['name']} "
                                                f"as a planned {focus} facility")
        st.session_state[ui.SAVED_SITE] = _("Saved '{name}' as a planned facility.").format(
            name=md(row["name"].iloc[0]))
        st.rerun()


ctx = ui.start("Gaps")
st.title(_("Gaps"))

if not ui.empty_state(ctx, "the gap analysis"):
    defaults = dict(ui.radius_items(ctx))
    with st.container(border=True):
        network, measure, mode = ui.travel_choice(ctx)
        # Two rows, so no label is cut short on a 1280 px screen: the reach per layer, then the choices.
        cols = st.columns(3)
        if measure == "minutes":  # travel time on the street network: minutes per layer instead of km
            for layer in LAYERS:
                st.session_state.setdefault(ui.minutes_key(ctx, layer), 30)
            minutes = tuple((layer, float(col.slider(_("{layer} travel time (min)").format(layer=layer_label(layer)),
                                                     5, 120, step=5, key=ui.minutes_key(ctx, layer))))
                            for col, layer in zip(cols, LAYERS))
        radius = () if measure == "minutes" else tuple(
            (layer, float(col.slider(_("{layer} radius (km)").format(layer=layer_label(layer)), 1, 100,
                                     round(defaults[layer]), key=f"gaps.radius.{ctx.region.id}.{layer}")))
            for col, layer in zip(cols, LAYERS)
        )
        choices, sites_col, drawings = st.columns(3)
        focus = choices.selectbox(_("Focus layer"), LAYERS, key="gaps.focus", format_func=layer_label)
        sector = choices.selectbox(_("Sector"), ["", *sectors_in(ui.facilities(ctx.path, ctx.stamp))], key="gaps.sector",
                                   format_func=lambda name: sector_label(name) if name else _("All sectors"),
                                   help=_("Count only the facilities that list this creative sector (or all sectors)."))
        k = sites_col.slider(_("New sites to suggest"), 0, 10, 3, key="gaps.k")
        planned = sites_col.toggle(_("Count planned sites"), key="gaps.planned",
                                   help=_("A scenario: planned facilities count as if they were open."))
        km_only = _("Drawn for distances in km; in travel time the map shows each facility's isochrone.")
        show_gaps = drawings.toggle(_("Show gap areas"), value=True, key="gaps.areas", disabled=measure == "minutes",
                                   help=km_only if measure == "minutes" else None)
        show_shares = drawings.toggle(_("Shade areas by coverage"), key="gaps.choropleth", disabled=measure == "minutes",
                                     help=km_only if measure == "minutes" else
                                     _("Colour each municipality/county (imported areas, else NUTS 3) by the "
                                       "share of its people within reach of the focus layer."))

    if measure == "minutes":
        travel_gaps(network, mode, minutes, planned=planned, focus=focus, sector=sector, k=k)
        st.stop()
    key = ctx.key()
    try:
        bound = ui.boundary(*key)
        result = ui.coverage(*key, radius, planned, sector)
        rep = ui.report(*key, radius, planned, sector)
        figures = st.columns(5)
        for col, layer in zip(figures, LAYERS):
            col.metric(metric_label(layer),
                       share_text(rep["layers"][layer]["coverage_share"]),
                       help=layer_label(layer) + ". " + _("{count} {kind} beyond {km}.").format(
                           count=formats.number(result.layers[layer]["uncovered_settlements"]),
                           kind=kind_name(rep["demand"]["kind"]), km=formats.km(dict(radius)[layer])))
        figures[3].metric(_("Full support"), share_text(rep["full_support_share"]))
        figures[4].metric(_("Population"), formats.number(result.population),
                          help=_("People in the {kind} of {source} inside the region.").format(
                              kind=kind_name(rep["demand"]["kind"]), source=demand_name(rep["demand"]["source"])))
        if warning := rep["demand"].get("warning"):
            st.warning(md(tr(warning)), icon=":material/groups:")
        by_area, areas_source = ui.areas(*key, radius, planned, sector)
        siting = ui.siting(*key, focus, dict(radius)[focus], k, planned, sector) if k else None
        sites = siting.sites if siting is not None else []
        places = ui.town_coverage(*key, radius, planned, sector)  # the towns, also when the demand is a grid
        towns = uncovered(places)
        content = maps.MapContent(
            facilities=ui.facility_map(*key, (focus,), radius=((focus, dict(radius)[focus]),),
                                       include_planned=planned, sector=sector),
            boundary=bound.geometry, boundary_source=bound.source, settlements=ui.towns(*key),
            gaps=ui.gap_areas(*key, radius, planned, focus, sector) if show_gaps else None,
            uncovered=places.settlements[~places.settlements[f"covered_{focus}"]], sites=sites, sites_layer=focus,
            areas=by_area if show_shares else None, areas_layer=focus, attribution=bound.attribution,
        )
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            st.pydeck_chart(maps.atlas_deck(content, basemap=ctx.online, height_px=520), height=520, key="gaps.deck")
        legend_col.html(maps.legend_html(maps.atlas_legend(content)))
        label = tr(bound.label)
        st.caption(_("{boundary}. Demand: {source} ({count} {kind}).").format(
            boundary=md(label[:1].upper() + label[1:]), source=md(demand_name(rep["demand"]["source"])),
            count=formats.number(rep["demand"]["settlements"]), kind=kind_name(rep["demand"]["kind"])) + " "
                   + " ".join(md(tr(n)) for n in rep["notes"] if n != rep["demand"].get("warning")))
        if by_area is not None:
            st.subheader(_("Coverage by area ({source})").format(source=md(tr(areas_source))))
            st.dataframe(area_table(by_area, list(LAYERS)), hide_index=True, width="stretch")

        left, right = st.columns([3, 2])
        with left:
            table = uncovered_table(towns, layer=focus)
            st.subheader(_("Towns beyond reach of {layer} ({count})").format(layer=layer_label(focus).lower(),
                                                                            count=formats.number(len(table))))
            st.dataframe(shown_towns(table), hide_index=True, width="stretch", height=320)
        with right:
            st.subheader(ngettext("{count} suggested new site", "{count} suggested new sites",
                                  len(sites)).format(count=len(sites)))
            if sites:
                near_plans = planned_near(sites, ui.facilities(ctx.path, ctx.stamp, sector), focus, dict(radius)[focus])
                st.dataframe(shown_sites(sites_table(sites, None if planned else near_plans)), hide_index=True,
                             width="stretch", column_config={c: st.column_config.NumberColumn(format="%.4f")
                                                             for c in (_("lat"), _("lon"))})
                st.caption(md(siting_sentence(siting)))
                if any(near_plans) and not planned:
                    st.caption(_("'planned nearby': a planned facility of this layer already lies within reach of "
                                 "the site; turn on 'Count planned sites' to see the gaps the plans leave."))
                site_picker(sites, focus)
            else:
                no_sites(k, _("No new site adds anyone: everyone a candidate site could reach is already within "
                              "{km} of {layer}.").format(km=formats.km(dict(radius)[focus]),
                                                         layer=layer_label(focus).lower()))
        saved_site()
    except ui.USER_ERRORS as exc:
        st.error(md(exc))
