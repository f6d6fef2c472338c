"""Autobahn|Testsuite's report format, both ways (spec ``autobahn-wirelog.md``).

Reading reduces every form to one :class:`~.entries.Report`, and one builder
turns it into a connection; writing and rendering go through the same
encoders and grammar, so each fact of the format is stated once:

* :mod:`.encoding`: the 64-octet cut, ``binLogData``/``asciiLogData`` both ways;
* :mod:`.grammar`: the page's wire-log lines both ways (the RF mask's double hex);
* :mod:`.entries`: the typed entries and the report they make;
* :mod:`.json_report`, :mod:`.html_page`, :mod:`.text_page`: the three readers;
* :mod:`.streams`, :mod:`.build`: lengths and bytes the forms lost, the connection;
* :mod:`.reader`: one case file by kind, or a folder / ``index.json``;
* :mod:`.render`: any connection's wire log as Autobahn prints it;
* :mod:`.write`: the JSON report as Autobahn writes it.
"""
