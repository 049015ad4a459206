"""The explorer's engine, between the site and the window: run config, load driver, run record, stats, exports.

Data flows one way: ``config`` → ``driver`` → requests → server spans (``embedded_site.tracing``)
plus client timings → ``record.RunRecord`` → ``stats``, ``export`` and the GUI's views.
Nothing here imports Qt except ``loops``/``qtloop``, which only build event loops.
"""
