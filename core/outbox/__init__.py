"""The outbox decider: the whole sending policy, pure.

``initial`` and ``evolve`` (:mod:`core.outbox.state`) fold a conversation stream into
what the outbox knows of it; :func:`~core.outbox.decide.decide` turns a batch of the
stream's events into a typed :class:`~core.outbox.decisions.Plan` and
:func:`~core.outbox.decide.after_error` turns a failed attempt into a verdict. The shell
(:mod:`adapters.engine.outbox`) loads the state, asks, performs the sends through the
:class:`~core.ports.Messenger` port, and appends what the decisions list.
"""
