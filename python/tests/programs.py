"""MLIR sources for the differential tests, compiled once per configuration."""

import functools

from moe_mlir.cpu import CPUProgram
from moe_mlir.validate import mlir_float


def routing_source(E, K, groups, group_topk, group_score, func, bias, normalize,
                   scale):
    gs = "max" if group_score[0] == "max" else f"topk_sum<{group_score[1]}>"
    attrs = f"k = {K}"
    if groups > 1:
        attrs += f" groups = {groups} group_topk = {group_topk} group_score = {gs}"
    if normalize:
        attrs += " normalize"
    attrs += f" scale = {mlir_float(scale)}"
    bias_arg = f", %b: tensor<{E}xf32>" if bias else ""
    bias_use = " bias %b" if bias else ""
    bias_ty = f", tensor<{E}xf32>" if bias else ""
    return f"""
func.func @route(%s: tensor<?x{E}xf32>{bias_arg}) -> (tensor<?x{K}xi32>, tensor<?x{K}xf32>) {{
  %ids, %w = moe.route %s{bias_use} {attrs}
      : (tensor<?x{E}xf32>{bias_ty}) -> (tensor<?x{K}xi32>, tensor<?x{K}xf32>)
  return %ids, %w : tensor<?x{K}xi32>, tensor<?x{K}xf32>
}}
func.func @score(%z: tensor<?x{E}xf32>) -> tensor<?x{E}xf32> {{
  %s = moe.score {func} %z : tensor<?x{E}xf32> -> tensor<?x{E}xf32>
  return %s : tensor<?x{E}xf32>
}}
func.func @pipeline(%z: tensor<?x{E}xf32>{bias_arg}) -> (tensor<?x{E}xf32>, tensor<?x{K}xi32>, tensor<?x{K}xf32>) {{
  %s = moe.score {func} %z : tensor<?x{E}xf32> -> tensor<?x{E}xf32>
  %ids, %w = moe.route %s{bias_use} {attrs}
      : (tensor<?x{E}xf32>{bias_ty}) -> (tensor<?x{K}xi32>, tensor<?x{K}xf32>)
  return %s, %ids, %w : tensor<?x{E}xf32>, tensor<?x{K}xi32>, tensor<?x{K}xf32>
}}
func.func @counts(%ids: tensor<?x{K}xi32>) -> tensor<{E}xi32> {{
  %c = moe.expert_counts %ids : tensor<?x{K}xi32> -> tensor<{E}xi32>
  return %c : tensor<{E}xi32>
}}
"""


@functools.lru_cache(maxsize=None)
def routing_program(E, K, groups, group_topk, group_score, func, bias,
                    normalize, scale):
    return CPUProgram(routing_source(E, K, groups, group_topk, group_score, func,
                                     bias, normalize, scale),
                      name=f"routing-E{E}-K{K}-G{groups}")


def loss_config_text(kind, alpha, counts, seq_len, devices, device_limit):
    text = f"<{kind}, alpha = {alpha!r}"
    if counts != "selected":
        text += f", counts = {counts}"
    if seq_len:
        text += f", seq_len = {seq_len}"
    if devices:
        text += f", devices = {devices}"
    if device_limit:
        text += f", device_limit = {device_limit}"
    return text + ">"


@functools.lru_cache(maxsize=None)
def loss_program(E, K, func, kind, alpha, counts, seq_len, devices, device_limit):
    cfg = loss_config_text(kind, alpha, counts, seq_len, devices, device_limit)
    src = f"""
func.func @loss(%s: tensor<?x{E}xf32>, %ids: tensor<?x{K}xi32>) -> tensor<f32> {{
  %l = moe.balance_loss %s, %ids {cfg} : tensor<?x{E}xf32>, tensor<?x{K}xi32> -> tensor<f32>
  return %l : tensor<f32>
}}
func.func @grad(%s: tensor<?x{E}xf32>, %ids: tensor<?x{K}xi32>) -> tensor<?x{E}xf32> {{
  %g = moe.balance_loss_grad {func} %s, %ids {cfg}
      : tensor<?x{E}xf32>, tensor<?x{K}xi32> -> tensor<?x{E}xf32>
  return %g : tensor<?x{E}xf32>
}}
"""
    return CPUProgram(src, name=f"loss-{kind}-E{E}-K{K}")
