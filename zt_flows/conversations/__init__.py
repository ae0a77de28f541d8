"""Conversations: canonical flow records -> client/server edges, with how each was decided.

Public API: :func:`build_conversations`, :func:`write_edges`, :func:`read_edges`.
"""

from zt_flows.conversations.build import (
    EDGE_SCHEMA,
    REDUCED_TABLE,
    ConversationReport,
    Conversations,
    FlowSource,
    build_conversations,
)
from zt_flows.conversations.io import read_edges, write_edges

__all__ = [
    "EDGE_SCHEMA",
    "REDUCED_TABLE",
    "ConversationReport",
    "Conversations",
    "FlowSource",
    "build_conversations",
    "read_edges",
    "write_edges",
]
