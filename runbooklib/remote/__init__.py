"""Reaching nodes: a `Host` over SSH (fabric) or local, bounded parallel map, and a redacting journal."""

from runbooklib.remote.host import CommandOutput, Host, LocalHost, SshHost, connect_nodes
from runbooklib.remote.journal import Journal
from runbooklib.remote.parallel import NodeOutcome, map_nodes
from runbooklib.remote.shell import q, sh_join

__all__ = ["CommandOutput", "Host", "Journal", "LocalHost", "NodeOutcome", "SshHost", "connect_nodes", "map_nodes", "q", "sh_join"]
