"""The load, soak and crash harness behind ``dloop-bot loadtest`` and ``dloop-bot crashtest``.

* :mod:`.traffic` builds signed, Meta-shaped deliveries (texts, batches, statuses,
  exact redeliveries);
* :mod:`.openloop` sends them at fixed arrival times and redelivers what was not
  acknowledged, as Meta does;
* :mod:`.graph` runs the fake Graph API in-process and remembers every send;
* :mod:`.services` spawns ``dloop-bot serve`` processes on a fresh database;
* :mod:`.procstat` samples a process's memory and open files;
* :mod:`.reconcile` checks the database and the fake's record against what was acknowledged.
"""
