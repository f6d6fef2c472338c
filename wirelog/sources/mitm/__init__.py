"""mitmproxy flow files (``mitmdump -w``): their WebSocket messages as
connections, read by :mod:`wirelog.sources.mitm.reader`."""
