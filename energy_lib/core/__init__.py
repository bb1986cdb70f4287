"""The lowest layer: canonical tables, units, wards, keys, configuration and small shared types
(docs/architecture: packages in layers; modules move here as the layout is reached)."""
