"""NetworkAttachmentDefinitions: build from params, render, validate (config, pools, nodes, cluster,
pod annotations), probe nodes in one round trip each, and apply (create or update, dry-run).

Modules: `document` (build/read/render), `jsontext` (strict JSON with Go's error texts + repair),
`pools` (whereabouts range maths), `config_rules` / `set_rules` / `node_rules` (pure rules),
`annotations` (networks annotation), `node_facts` + `probe` (node facts), `cluster_read`,
`validate` (orchestration), `apply`.
"""

from runbooklib.nad.annotations import (
    NETWORK_STATUS_ANNOTATION,
    NETWORKS_ANNOTATION,
    NetworkSelection,
    parse_network_status,
    parse_networks_annotation,
    validate_networks_annotation,
    validate_workload,
)
from runbooklib.nad.config_rules import ParsedNad, validate_config
from runbooklib.nad.document import (
    NadDocument,
    build_nad,
    build_nads,
    document_from_object,
    documents_from_params,
    documents_from_yaml,
    nad_config,
    render_nad_yaml,
)
from runbooklib.nad.jsontext import go_syntax_error, parse_strict, repair_json
from runbooklib.nad.node_facts import BinaryFacts, LinkFacts, NodeCniFacts, parse_probe_output, probe_script
from runbooklib.nad.node_rules import validate_on_nodes
from runbooklib.nad.pools import Pool, ippool_name, pool_from_ipam
from runbooklib.nad.set_rules import StaticOccupant, static_occupants, validate_namespaces, validate_pools
from runbooklib.nad.validate import NadValidation, validate_documents, validate_nads

__all__ = [
    "NETWORKS_ANNOTATION", "NETWORK_STATUS_ANNOTATION", "BinaryFacts", "LinkFacts", "NadDocument", "NadValidation",
    "NetworkSelection", "NodeCniFacts", "ParsedNad", "Pool", "StaticOccupant", "build_nad", "build_nads",
    "document_from_object", "documents_from_params", "documents_from_yaml", "go_syntax_error", "ippool_name",
    "nad_config", "parse_network_status", "parse_networks_annotation", "parse_probe_output", "parse_strict",
    "pool_from_ipam", "probe_script", "render_nad_yaml", "repair_json", "static_occupants", "validate_config",
    "validate_documents", "validate_namespaces", "validate_nads", "validate_networks_annotation", "validate_on_nodes",
    "validate_pools", "validate_workload",
]
