"""The course on JupyterHub: what runs on the hub's single-user side (layer 6, top).

- :mod:`lossbook.hub.homes`: a learner's home folder laid out like a course folder after
  ``make lab``: ``notebooks/`` (the lessons) and ``exercises/`` (the released copies), both
  refreshed from the course on every start and read-only for the learner; ``workspace/``
  (the learner's own copies, made by ``lossbook workspace``'s :func:`sync_workspace`: copied
  once, never overwritten, new exercises added after a course update); the marker
  ``.lossbook-course`` and the progress store ``.lossbook-progress/``.
- :mod:`lossbook.hub.singleuser`: the single-user server's command
  (``python -m lossbook.hub.singleuser``): prepares the home *as the learner*, then runs
  ``jupyterhub-singleuser``. It works with every spawner, also those whose hub cannot
  write into the learner's home (KubeSpawner's volumes), and files belong to the learner.
- :mod:`lossbook.hub.contents`: the contents manager that shows the lessons and released
  exercises read-only in JupyterLab and refuses to save, rename or delete them.

``deploy/jupyterhub_config.py`` wires these into JupyterHub; ``lossbook hub`` starts it.
Nothing here is imported by ``import lossbook``.
"""
