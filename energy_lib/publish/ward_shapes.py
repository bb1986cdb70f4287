"""Shapes of Gwangju's 96 administrative dongs for maps: schematic cells or a boundary file.

The repository holds one representative point per dong, no boundaries. Without a boundary file
each dong is the Voronoi cell of its point, clipped to the convex hull of all points widened by
2 km (:func:`schematic_cells`): a *schematic*, and maps drawn from it say so. A boundary GeoJSON
in longitude/latitude (for example vuski/admdongkor's, whose ``adm_cd2`` is the 10-digit code)
gives real shapes (:func:`read_boundaries`).

Projection: equirectangular about :data:`ORIGIN`, x = R·Δλ·cos φ₀, y = R·Δφ, in km. Across
Gwangju (0.15° of latitude) its scale error is under 0.3 %.

References
----------
.. [1] Okabe, A., Boots, B., Sugihara, K., Chiu, S. N. (2000). Spatial Tessellations: Concepts and
   Applications of Voronoi Diagrams, 2nd ed. Wiley.
.. [2] Sutherland, I. E., Hodgman, G. W. (1974). Reentrant polygon clipping. Communications of
   the ACM 17(1), 32-42.
.. [3] Butler, H. et al. (2016). The GeoJSON Format, RFC 7946 (coordinates are WGS 84
   longitude, latitude; exterior rings counterclockwise).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.path import Path as MplPath
from scipy.spatial import ConvexHull, Voronoi

from energy_lib.baselines.result import ModelWarning
from energy_lib.core import wards as ward_reference
from energy_lib.core.status import WarningCode

__all__ = ["ORIGIN", "EARTH_RADIUS_KM", "CODE_PROPERTIES", "WardShapes", "project", "schematic_cells",
           "read_boundaries", "gu_outline", "edges", "outline_mask", "signed_area"]

ORIGIN = (126.85, 35.16)
"""Longitude and latitude [°] of the map plane's origin, near the middle of Gwangju."""

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG)."""

CODE_PROPERTIES = ("ward_code", "adm_cd2", "ADM_CD2", "adm_code", "ADM_CODE", "code")
"""Feature properties tried, in order, for the 10-digit ward code when none is named."""


@dataclass(frozen=True, eq=False)
class WardShapes:
    """Ward shapes on the map plane [km] (see :func:`project`).

    Attributes
    ----------
    rings : dict of str to tuple of numpy.ndarray
        Ward code → the rings of its polygons, each an ``(n, 2)`` array of x, y [km] without the
        closing vertex; exterior rings counterclockwise, holes clockwise (so a ward's area is the
        sum of its rings' signed areas). A ward without a shape is absent.
    wards : pandas.DataFrame
        The ward table the shapes belong to (:func:`energy_lib.core.wards.wards`), one row per ward.
    schematic : bool
        True when the shapes are Voronoi cells, not real boundaries.
    source : str
        Where the shapes come from (a file path, or ``"schematic"``).
    warnings : tuple of ModelWarning
        What did not fit, as data (wards without a boundary, features outside Gwangju, ...).
    """

    rings: dict[str, tuple[np.ndarray, ...]]
    wards: pd.DataFrame
    schematic: bool
    source: str
    warnings: tuple[ModelWarning, ...] = field(default_factory=tuple)

    @property
    def missing(self) -> tuple[str, ...]:
        """Codes of the wards without a shape (drawn as points)."""
        return tuple(code for code in self.wards["ward_code"] if code not in self.rings)

    def path(self, ward_code: str) -> MplPath:
        """One ward's shape as a compound matplotlib path (holes included)."""
        rings = self.rings[ward_code]
        codes = []
        for ring in rings:
            ring_codes = np.full(len(ring) + 1, MplPath.LINETO, dtype=MplPath.code_type)
            ring_codes[0], ring_codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            codes.append(ring_codes)
        return MplPath(np.concatenate([np.vstack([r, r[:1]]) for r in rings]), np.concatenate(codes))

    def contains(self, ward_code: str, points) -> np.ndarray:
        """Whether each point, an ``(n, 2)`` array of x, y [km], lies in the ward (not in a hole).

        Even–odd rule over the ward's rings: matplotlib's own test counts a point in a hole as
        inside its exterior ring.
        """
        points = np.atleast_2d(np.asarray(points, dtype=float))
        inside = np.zeros(len(points), dtype=bool)
        for ring in self.rings[ward_code]:
            inside ^= MplPath(np.vstack([ring, ring[:1]]), closed=True).contains_points(points)
        return inside

    def area(self, ward_code: str) -> float:
        """One ward's area on the map plane [km²]."""
        return float(sum(signed_area(ring) for ring in self.rings[ward_code]))

    def points(self) -> pd.DataFrame:
        """Each ward's representative point on the map plane: columns x, y [km], by ward code."""
        x, y = project(self.wards["lon"].to_numpy(float), self.wards["lat"].to_numpy(float))
        return pd.DataFrame({"x": x, "y": y}, index=pd.Index(self.wards["ward_code"], name="ward_code"))


# --- geometry ------------------------------------------------------------------------------

def project(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude [°] to the map plane [km], east and north of :data:`ORIGIN`.

    Parameters
    ----------
    lon, lat : array_like
        WGS 84 longitude and latitude [°].

    Returns
    -------
    x, y : numpy.ndarray
        Easting and northing [km].

    Notes
    -----
    Equirectangular projection with the scale true at the origin's latitude φ₀:
    x = R (λ − λ₀) cos φ₀,  y = R (φ − φ₀), angles in radians, R = :data:`EARTH_RADIUS_KM`.
    """
    lon0, lat0 = ORIGIN
    scale = EARTH_RADIUS_KM * math.pi / 180.0
    x = (np.asarray(lon, dtype=float) - lon0) * scale * math.cos(math.radians(lat0))
    return x, (np.asarray(lat, dtype=float) - lat0) * scale


def signed_area(ring: np.ndarray) -> float:
    """Shoelace area [km²], positive for a counterclockwise ring."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland–Hodgman [3]: ``subject`` polygon clipped to the convex counterclockwise ``clip``."""
    output = subject
    for a, b in zip(clip, np.roll(clip, -1, axis=0)):
        edge = b - a
        side = edge[0] * (output[:, 1] - a[1]) - edge[1] * (output[:, 0] - a[0])  # ≥ 0: inside
        kept = []
        for k in range(len(output)):
            p, q, sp, sq = output[k - 1], output[k], side[k - 1], side[k]
            if (sp >= 0) != (sq >= 0):
                kept.append(p + (q - p) * (sp / (sp - sq)))
            if sq >= 0:
                kept.append(q)
        output = np.array(kept).reshape(-1, 2)
    return output


def schematic_cells(ward_table: pd.DataFrame | None = None, *, buffer_km: float = 2.0) -> WardShapes:
    """Schematic ward shapes: the Voronoi cell of each ward's point, clipped to the widened hull.

    Parameters
    ----------
    ward_table : pandas.DataFrame, optional
        Wards with ``ward_code``, ``gu_code``, names, ``lon`` and ``lat`` [°];
        :func:`energy_lib.core.wards.wards` if omitted.
    buffer_km : float, default 2.0
        How far the outline reaches beyond the outermost points [km].

    Returns
    -------
    WardShapes
        One convex counterclockwise ring per ward, ``schematic=True``.

    Notes
    -----
    A ward's cell is the part of the plane nearer its point than any other ward's point [2]. Four
    far-away helper points make every ward's cell bounded; each cell is then clipped to the convex
    hull of all points widened by ``buffer_km`` (Sutherland–Hodgman [3]). The cells tile that
    outline exactly, and each contains its own point.
    """
    table = (ward_reference.wards() if ward_table is None else ward_table).reset_index(drop=True)
    points = np.column_stack(project(table["lon"].to_numpy(float), table["lat"].to_numpy(float)))
    if len(points) < 3 or len(np.unique(points.round(6), axis=0)) < len(points):
        raise ValueError("A schematic map needs at least 3 wards, each with its own point.")
    hull = points[ConvexHull(points).vertices]
    angles = np.linspace(0.0, 2 * math.pi, 48, endpoint=False)
    circle = buffer_km * np.column_stack([np.cos(angles), np.sin(angles)])
    widened = (hull[:, None, :] + circle[None, :, :]).reshape(-1, 2)
    outline = widened[ConvexHull(widened).vertices]  # 2-D hull vertices run counterclockwise
    reach = 10 * (np.ptp(points, axis=0).max() + buffer_km)
    helpers = points.mean(axis=0) + reach * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
    diagram = Voronoi(np.vstack([points, helpers]))
    rings = {}
    for i, code in enumerate(table["ward_code"]):
        cell = diagram.vertices[diagram.regions[diagram.point_region[i]]]
        cell = cell[np.argsort(np.arctan2(*(cell - points[i]).T[::-1]))]  # counterclockwise
        rings[str(code)] = (_clip_convex(cell, outline),)
    return WardShapes(rings=rings, wards=table, schematic=True, source="schematic")


# --- boundary files ------------------------------------------------------------------------

def _feature_rings(geometry, where: str) -> list[np.ndarray]:
    """Projected rings of a Polygon or MultiPolygon; exteriors counterclockwise, holes clockwise."""
    kind = None if geometry is None else geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"{where} has geometry {kind!r}; a dong boundary must be a Polygon or "
                         "MultiPolygon. Remove the feature or fix its geometry.")
    polygons = geometry.get("coordinates") or []
    rings = []
    for polygon in [polygons] if kind == "Polygon" else polygons:
        for k, coordinates in enumerate(polygon):
            lonlat = np.asarray(coordinates, dtype=float)
            if lonlat.ndim != 2 or lonlat.shape[1] < 2:
                raise ValueError(f"{where}: a ring's coordinates are not a list of [lon, lat] pairs.")
            lonlat = lonlat[:, :2]
            if np.abs(lonlat[:, 0]).max() > 180 or np.abs(lonlat[:, 1]).max() > 90:
                raise ValueError(
                    f"{where} has coordinates like {lonlat[0].tolist()}, which are not longitude "
                    "and latitude in degrees (EPSG:5179 or another projected system?). Reproject "
                    "the file to WGS 84, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`.")
            if np.array_equal(lonlat[0], lonlat[-1]):
                lonlat = lonlat[:-1]
            if len(np.unique(lonlat, axis=0)) < 3:
                raise ValueError(f"{where} has a ring with fewer than 3 distinct points.")
            ring = np.column_stack(project(lonlat[:, 0], lonlat[:, 1]))
            rings.append(ring if (signed_area(ring) > 0) == (k == 0) else ring[::-1].copy())
    if not rings:
        raise ValueError(f"{where} has an empty geometry.")
    return rings


def read_boundaries(path: str | Path, ward_table: pd.DataFrame | None = None, *,
                    code_property: str | None = None) -> WardShapes:
    """Ward shapes from a boundary GeoJSON (FeatureCollection of Polygon or MultiPolygon features).

    Parameters
    ----------
    path : str or pathlib.Path
        GeoJSON in WGS 84 longitude and latitude [°] (RFC 7946 [4]). A national file is fine:
        features outside Gwangju's gu are skipped and counted.
    ward_table : pandas.DataFrame, optional
        The wards to map; :func:`energy_lib.core.wards.wards` if omitted.
    code_property : str, optional
        The feature property holding the 10-digit administrative dong code (행정동코드); if
        omitted, the first of :data:`CODE_PROPERTIES` that the first feature has.

    Returns
    -------
    WardShapes
        ``schematic=False``. Codes of any vintage in the crosswalk
        (:func:`energy_lib.core.wards.ward_codes`: merged dongs, the 2026-07 renumbering) count as
        their current ward; a ward with several features gets all their polygons. Warnings (as
        data): ``energy_lib.publish.ward_shapes.ward_without_boundary`` (those wards are drawn as points),
        ``energy_lib.publish.ward_shapes.features_outside_gwangju`` and ``energy_lib.publish.ward_shapes.point_outside_boundary``
        (a ward's representative point lies outside its polygons: check that feature's code).

    Raises
    ------
    ValueError
        If the file is not a FeatureCollection of polygons in longitude/latitude or lacks the code
        property; if a feature in a Gwangju gu carries a code that is no ward of any known vintage
        (the message names the file, the feature's index and its code, and what to do); or if no
        feature is a Gwangju ward.
    """
    path = Path(path)
    table = (ward_reference.wards() if ward_table is None else ward_table).reset_index(drop=True)
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a GeoJSON file in UTF-8 ({error}).") from error
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not data.get("features"):
        raise ValueError(f"{path}: expected a GeoJSON FeatureCollection with features.")
    features = data["features"]
    first = features[0].get("properties") or {}
    code_property = code_property or next((name for name in CODE_PROPERTIES if name in first), None)
    if code_property is None:
        raise ValueError(f"{path}: feature 0 has none of the properties {', '.join(CODE_PROPERTIES)}; "
                         f"it has {', '.join(map(str, first)) or 'no properties'}. Pass "
                         "code_property= naming the one that holds the 10-digit 행정동코드.")
    crosswalk = ward_reference.ward_codes()
    dongs = crosswalk[crosswalk["level"] == "dong"]
    to_ward = dict(zip(dongs["code"], dongs["ward_code"]))
    gwangju_gu = set(crosswalk.loc[crosswalk["level"] == "gu", "code"])
    known = set(table["ward_code"])
    rings: dict[str, list[np.ndarray]] = {}
    outside = []
    for index, feature in enumerate(features):
        where = f"{path}: feature {index}"
        value = ((feature or {}).get("properties") or {}).get(code_property)
        code = str(value).strip().removesuffix(".0") if value is not None else ""
        if not (len(code) == 10 and code.isdigit()):
            raise ValueError(f"{where} has {code_property} {value!r}, not a 10-digit administrative "
                             "dong code (행정동코드). Give every feature its code, or pass "
                             "code_property= naming the property that holds it (vuski/admdongkor: "
                             "'adm_cd2').")
        if code[:5] not in gwangju_gu:
            outside.append(code)
            continue
        ward = to_ward.get(code)
        if ward not in known:
            raise ValueError(
                f"{where} has {code_property} {code!r}, a Gwangju code that matches no ward of "
                "energy_lib/core/reference/wards.csv (MOIS code table of 2026-04-01) in any known vintage. "
                "Use boundaries of that vintage, or, if the dong was created, merged or renumbered, "
                "add the change to energy_lib/config/wards.toml (admin_changes) and run "
                "`energy init --rebuild-reference`.")
        rings.setdefault(ward, []).extend(_feature_rings(feature.get("geometry"), where))
    if not rings:
        raise ValueError(f"{path}: none of its {len(features)} features is a Gwangju ward (codes "
                         f"like {outside[0]!r} in {code_property!r}). Check code_property= and "
                         "that the file covers Gwangju.")
    shapes = WardShapes({c: tuple(rings[c]) for c in table["ward_code"] if c in rings}, table,
                        schematic=False, source=str(path))
    warnings = []
    if shapes.missing:
        names = table.set_index("ward_code").loc[list(shapes.missing), "dong_name_ko"]
        warnings.append(ModelWarning(
            WarningCode.WARD_WITHOUT_BOUNDARY,
            f"{len(shapes.missing)} ward(s) have no feature in {path.name}; they are drawn as points.", path.name,
            data={"ward_codes": list(shapes.missing), "dong_names": names.tolist()}))
    if outside:
        warnings.append(ModelWarning(WarningCode.FEATURES_OUTSIDE_GWANGJU,
                                     f"{len(outside)} feature(s) outside Gwangju were skipped.", path.name,
                                     data={"n_features": len(outside), "examples": outside[:5]}))
    points = shapes.points()
    astray = [c for c in shapes.rings if not shapes.contains(c, points.loc[c].to_numpy())[0]]
    if astray:
        warnings.append(ModelWarning(
            WarningCode.POINT_OUTSIDE_BOUNDARY,
            "These wards' representative points lie outside their boundary: check the features' codes.", path.name,
            data={"ward_codes": astray}))
    return WardShapes(shapes.rings, table, schematic=False, source=str(path), warnings=tuple(warnings))


# --- edges: which ward lies across each edge -----------------------------------------------

def edges(shapes: WardShapes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ring edge [km], the index of its ward, the index of the ward across it (-1: none),
    and the gu code by ward index.

    The ward across an edge is the one containing a probe point just outside the edge's midpoint
    (on its right, since exteriors run counterclockwise and holes clockwise). This needs no shared
    vertices, so it works for real boundary files as well as for Voronoi cells.
    """
    codes = list(shapes.rings)
    segments = np.concatenate([np.stack([ring, np.roll(ring, -1, axis=0)], axis=1)
                               for code in codes for ring in shapes.rings[code]])
    own = np.concatenate([np.full(len(ring), i) for i, code in enumerate(codes)
                          for ring in shapes.rings[code]])
    delta = segments[:, 1] - segments[:, 0]
    length = np.hypot(delta[:, 0], delta[:, 1])
    keep = length > 1e-9
    segments, own, delta, length = segments[keep], own[keep], delta[keep], length[keep]
    outward = np.column_stack([delta[:, 1], -delta[:, 0]]) / length[:, None]
    probes = segments.mean(axis=1) + np.minimum(0.02, 0.25 * length)[:, None] * outward
    other = np.full(len(segments), -1)
    for j, code in enumerate(codes):
        vertices = np.concatenate(shapes.rings[code])
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        near = np.flatnonzero((other < 0) & np.all((probes >= low) & (probes <= high), axis=1))
        other[near[shapes.contains(code, probes[near])]] = j
    gu_of = dict(zip(shapes.wards["ward_code"], shapes.wards["gu_code"]))
    return segments, own, other, np.array([gu_of[c] for c in codes])


def outline_mask(own: np.ndarray, other: np.ndarray, gu: np.ndarray, gu_code: str) -> np.ndarray:
    """Edges of ``gu_code``'s wards with another gu, or nothing, across."""
    return (gu[own] == gu_code) & ((other < 0) | (gu[np.maximum(other, 0)] != gu_code))


def gu_outline(shapes: WardShapes, gu_code: str) -> np.ndarray:
    """The outline of one gu: the edges of its wards with another gu, or nothing, across.

    Parameters
    ----------
    shapes : WardShapes
    gu_code : str
        5-digit gu code.

    Returns
    -------
    numpy.ndarray
        Segments, shape ``(m, 2, 2)``: start and end x, y [km], each with the gu on its left.
    """
    segments, own, other, gu = edges(shapes)
    return segments[outline_mask(own, other, gu, gu_code)]


# --- values --------------------------------------------------------------------------------
