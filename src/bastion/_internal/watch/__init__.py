"""The runtime watch: run a command, sample its whole process tree, report payloads.

``bastion watch -- CMD`` starts the command as a child of a Linux child
subreaper (so double-forked and ``nohup``-ed processes stay in view), samples
every process of the tree with psutil (``/proc`` on Linux) every interval,
judges what it sees against the indicators (miner names and arguments,
binaries dropped in temporary places and executed, processes that outlive
the command, connections a step did not declare, sustained CPU) and against
a recorded baseline, and stops whatever is left when the command ends. It
detects; it does not prevent: a payload runs until the watch sees it (at
most one interval with ``--kill-on``).
"""
