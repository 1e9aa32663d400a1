"""piis-bridge: the PIIS rules core and the hooks that vendor, federal and transfer plugins implement."""

__version__ = "0.1.0"
