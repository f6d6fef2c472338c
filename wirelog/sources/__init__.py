"""Where recordings come from. Each source pushes its connections into one
:class:`~wirelog.sources.sink.Sink` (see :mod:`wirelog.pipeline` for the
order of events): ``pcap/`` reads capture files (``files``: the records, the
only scapy importer; ``flows``: TCP connections, reassembly through ``tcp``,
upgrade detection through ``httpwatch``; ``capture``: the two run into a
sink), ``autobahn/`` parses reports whole into a recording that the
pipeline replays into the same sink. :mod:`~wirelog.sources.detect` names an
input's kind from its content; :mod:`~wirelog.sources.options` holds the
typed options every source and consumer shares.
"""
