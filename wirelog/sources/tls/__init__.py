"""TLS captures decrypted with the session keys, as Wireshark does.

A TCP connection whose first octets are a TLS ClientHello passes through a
:class:`~wirelog.sources.tls.stream.TlsStream` between TCP reassembly and
the HTTP watch: keylog.py (the NSS key log, and pcapng Decryption Secrets),
records.py (record framing and resynchronisation after a gap),
handshake.py (ClientHello/ServerHello facts), keys.py (the TLS 1.3 and
TLS 1.2 key schedules), decrypt.py (AEAD and CBC + HMAC record
protection), stream.py (one connection, both directions). The plaintext
becomes the stream the HTTP Upgrade and WebSocket decoder see.
"""
