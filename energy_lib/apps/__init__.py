"""Back-ends of the citizen apps (Voila notebooks in ``notebooks/apps/``): what runs in an app's
kernel beside the notebook, e.g. :mod:`energy_lib.apps.client`, who is visiting."""
