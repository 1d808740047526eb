"""Analyses on top of the core: links and loops (``links``, ``loops``), loop dominance
(``dominance``), verification against reference outputs (``verify``), uncertain inputs (``ranges``)."""
