"""An `ApiClient` from a kubeconfig path and context, with its own `Configuration`.

Never touches the client's global default configuration and never logs or copies the kubeconfig's
contents: errors name the path and the context only.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from runbooklib.errors import RunbookError
from runbooklib.params import Params


class KubeconfigError(RunbookError):
    def __init__(self, path: str, context: str | None, reason: str) -> None:
        self.path = path
        self.context = context
        where = f"{path}" + (f" (context {context})" if context else "")
        super().__init__(f"kubeconfig {where}: {reason}")


def api_client_from_kubeconfig(path: str | os.PathLike[str], context: str | None = None) -> k8s.ApiClient:
    p = Path(os.path.expanduser(str(path)))
    if not p.is_file():
        raise KubeconfigError(str(p), context, "file not found")
    cfg = k8s.Configuration()
    try:
        k8s_config.load_kube_config(config_file=str(p), context=context, client_configuration=cfg, persist_config=False)
    except k8s_config.ConfigException as e:
        # ConfigException messages name contexts/keys, not secrets
        raise KubeconfigError(str(p), context, str(e).splitlines()[0][:300]) from None
    except Exception as e:  # yaml errors etc.: do not echo file contents
        raise KubeconfigError(str(p), context, f"cannot load ({type(e).__name__})") from None
    return k8s.ApiClient(cfg)


def api_client_for_params(params: Params) -> k8s.ApiClient:
    """The client for the cluster a params file names (`kubeconfig.path`, `kubeconfig.context`)."""
    return api_client_from_kubeconfig(params.resolve(params.kubeconfig.path), params.kubeconfig.context)
