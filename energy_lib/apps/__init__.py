"""Back-ends of the citizen apps (Voila notebooks in ``notebooks/apps/``): the apps' Voila server
(:mod:`energy_lib.apps.serving`: compression, the kernel cap, culling, client identity) and what
runs in an app's kernel beside the notebook, e.g. :mod:`energy_lib.apps.client`, who is visiting."""
