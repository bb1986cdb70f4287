"""Publication: the release of the open data and its disclosure control, the report pages, the site.

Modules: :mod:`~energy_lib.publish.release` (tables, variables and relations of a release),
:mod:`~energy_lib.publish.cells` (cells from customer rows, primary rule, costs),
:mod:`~energy_lib.publish.protection` (secondary suppression), :mod:`~energy_lib.publish.audit`
(the linear-programming attack), :mod:`~energy_lib.publish.disclosure` (the open data's release)
and :mod:`~energy_lib.publish.site` (papermill, nbconvert, the site), with
:mod:`~energy_lib.publish.fonts` (the Korean font cut to what the site and the apps show, WOFF2)
and :mod:`~energy_lib.apps.serving` (the apps' Voila server, compressed).
"""
