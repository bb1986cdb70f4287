"""The Voila server of the citizen apps, made light: compressed responses and WebSocket messages.

Voila's own tornado application sends its JavaScript (about 4.8 MB per app page, most of it
JupyterLab's and the widgets' bundles) uncompressed, and its ``Voila.tornado_settings`` are
applied after the application is built, too late to turn compression on. :class:`WorkbookVoila`
adds two settings when the application is built:

- ``compress_response``: tornado gzips every text, JavaScript, JSON and SVG response (level 6);
  fonts (WOFF2) and PNGs are compressed already and are sent as they are;
- ``websocket_compression_options``: the kernel's WebSocket offers permessage-deflate (RFC 7692),
  which compresses the widgets' messages (an app's outputs, e.g. the ward explorer's report).

Run as ``python -m energy_lib.publish.serving`` with Voila's command-line options (``energy
serve`` does, with the workbook's options).

References
----------
.. [1] tornado.web.Application, settings ``compress_response``, ``websocket_compression_options``
   (https://www.tornadoweb.org/en/stable/web.html).
.. [2] RFC 7692, Compression Extensions for WebSocket (2015).
"""

from __future__ import annotations

from voila.app import Voila

__all__ = ["WorkbookVoila", "main"]


class WorkbookVoila(Voila):
    """Voila with gzip-compressed HTTP responses and compressed WebSocket messages."""

    def init_settings(self) -> dict:
        """Voila's tornado settings with compression on (read when the application is built)."""
        settings = super().init_settings()
        settings["compress_response"] = True
        settings["websocket_compression_options"] = {}
        return settings


def main() -> None:
    """Start the server with the command line's Voila options."""
    WorkbookVoila.launch_instance()


if __name__ == "__main__":
    main()
