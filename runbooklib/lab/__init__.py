"""The local lab: k3s-like nodes on one Linux machine (network + mount namespaces, sshd per node).

Lab-only code. The product (`runbooklib` outside `runbooklib.lab`) never imports this package;
lab code and tests find a running lab through `runbooklib.lab.state.LabState`.
"""
