"""The deterministic demo prefecture / province generator (a plain package, not a Django app).

:func:`jixiao.demo.generator.generate` runs an ordered pipeline of steps (registry, schemes,
library, accounts …) over one context; later capabilities append their own steps.
"""
