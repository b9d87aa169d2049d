"""An independent NumPy reference of the moe semantics (docs/design.md and
the op descriptions), written without looking at the MLIR lowering.

Routing arithmetic is float32, as the spec requires; loss statistics are
float64. Ranking: larger first, NaN below every number, lower index on ties.
"""

import math

import numpy as np

F32 = np.float32


def rank_order(values):
    """Indices of `values` from best to worst in the routing order."""
    values = np.asarray(values, dtype=F32)
    nan = np.isnan(values)
    keyed = np.where(nan, F32(0), -values)
    # lexsort: last key is primary.
    return np.lexsort((np.arange(len(values)), keyed, nan))


def sigmoid(z):
    z = np.asarray(z, dtype=F32)
    return (F32(1) / (F32(1) + np.exp(-z))).astype(F32)


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(F32)


def score(z, func):
    return sigmoid(z) if func == "sigmoid" else softmax(z)


def route(s, k, bias=None, groups=1, group_topk=1, group_score=("max", 1),
          normalize=False, scale=1.0):
    """Returns ids [T, k] int32, weights [T, k] float32, and per token the
    selection scores and chosen groups (for near-tie analysis)."""
    s = np.asarray(s, dtype=F32)
    T, E = s.shape
    sel = s + (np.asarray(bias, dtype=F32) if bias is not None else F32(0))
    sel = sel.astype(F32)
    per = E // groups
    ids = np.zeros((T, k), np.int32)
    w = np.zeros((T, k), F32)
    kind, n = group_score
    chosen_groups = []
    for t in range(T):
        eligible = np.ones(E, bool)
        if groups > 1:
            gs = np.zeros(groups, F32)
            for g in range(groups):
                vals = sel[t, g * per:(g + 1) * per]
                order = rank_order(vals)
                if kind == "max":
                    gs[g] = vals[order[0]]
                else:
                    acc = F32(0)
                    for j in order[:n]:
                        acc = F32(acc + vals[j])
                    gs[g] = acc
            keep = rank_order(gs)[:group_topk]
            chosen_groups.append(keep)
            eligible[:] = False
            for g in keep:
                eligible[g * per:(g + 1) * per] = True
        cand = np.nonzero(eligible)[0]
        order = cand[rank_order(sel[t, cand])][:k]
        ids[t] = order
        raw = s[t, order]
        if normalize:
            total = F32(0)
            for v in raw:
                total = F32(total + v)
            raw = (raw / F32(total + F32(1e-20))).astype(F32)
        if scale != 1.0:
            raw = (raw * F32(scale)).astype(F32)
        w[t] = raw
    return ids, w, sel, chosen_groups


def route_vectorized(s, k, bias=None, groups=1, group_topk=1,
                     group_score=("max", 1), normalize=False, scale=1.0):
    """`route` for large batches of finite scores, vectorised over tokens
    (stable sorts keep the lower index on ties). Returns ids, weights, the
    selection scores and the group scores (None without groups)."""
    s = np.asarray(s, dtype=F32)
    T, E = s.shape
    sel = (s + (np.asarray(bias, dtype=F32) if bias is not None else F32(0))).astype(F32)
    gscore = None
    masked = sel
    if groups > 1:
        per = E // groups
        view = sel.reshape(T, groups, per)
        kind, n = group_score
        desc = -np.sort(-view, axis=2)
        if kind == "max":
            gscore = desc[:, :, 0]
        else:
            gscore = np.zeros((T, groups), F32)
            for j in range(n):
                gscore = (gscore + desc[:, :, j]).astype(F32)
        keep = np.argsort(-gscore, axis=1, kind="stable")[:, :group_topk]
        allowed = np.zeros((T, groups), bool)
        np.put_along_axis(allowed, keep, True, axis=1)
        masked = np.where(np.repeat(allowed, per, axis=1), sel, -np.inf).astype(F32)
    ids = np.argsort(-masked, axis=1, kind="stable")[:, :k].astype(np.int32)
    raw = np.take_along_axis(s, ids, axis=1)
    w = raw
    if normalize:
        total = np.zeros(T, F32)
        for j in range(k):
            total = (total + raw[:, j]).astype(F32)
        w = (raw / (total + F32(1e-20))[:, None]).astype(F32)
    if scale != 1.0:
        w = (w * F32(scale)).astype(F32)
    return ids, w.astype(F32), sel, gscore


NEAR_TIE = 1e-6


def near(x, y, tol=NEAR_TIE):
    return abs(float(x) - float(y)) <= tol * max(abs(float(x)), abs(float(y)), 1e-30)


def explained_by_near_tie(sel, ids_a, ids_b, gscore=None, groups=1, group_topk=1):
    """Whether two routings of one token differ only at a genuine near-tie:
    the contested selection scores (or group scores) are within 1e-6
    relative. `sel` are the selection scores of that token."""
    if groups > 1 and gscore is not None:
        per = len(sel) // groups
        ga = {int(i) // per for i in ids_a}
        gb = {int(i) // per for i in ids_b}
        if ga != gb:
            return all(near(gscore[x], gscore[y]) for x in ga - gb for y in gb - ga)
    for a, b in zip(ids_a, ids_b):
        if a != b and not near(sel[a], sel[b]):
            return False
    return True


def expert_counts(ids, E):
    ids = np.asarray(ids)
    valid = (ids >= 0) & (ids < E)
    return np.bincount(ids[valid], minlength=E).astype(np.int32)


def plain_topk(s, k):
    return np.stack([rank_order(row)[:k] for row in np.asarray(s, F32)]) \
        if len(s) else np.zeros((0, k), np.int64)


def _loss_weights(s, ids, kind, counts, devices, device_limit):
    """g_i of one sequence (float64)."""
    L, E = s.shape
    K = ids.shape[1]
    sel = plain_topk(s, K) if counts == "topk" else ids
    c = np.zeros(E)
    for row in sel:
        for e in row:
            if 0 <= e < E:
                c[e] += 1
    f = E / (K * L) * c
    if kind in ("sequence", "expert"):
        return f
    per = E // devices
    if kind == "device":
        return np.repeat(f.reshape(devices, per).mean(axis=1), per)
    hits = np.zeros(devices)
    for row in sel:
        devs = {int(e) // per for e in row if 0 <= e < E}
        for d in devs:
            hits[d] += 1
    return np.repeat(devices / (device_limit * L) * hits, per)


def _sequences(T, seq_len):
    L = seq_len or T
    return [] if T == 0 else [(b * L, L) for b in range(T // L)]


def balance_loss(s, ids, kind, alpha, counts="selected", seq_len=0,
                 devices=0, device_limit=0, weights=None):
    """The loss (float64). `weights` can freeze g per sequence (list)."""
    s = np.asarray(s, np.float64)
    s32 = np.asarray(s, F32)
    T = s.shape[0]
    seqs = _sequences(T, seq_len)
    if not seqs:
        return 0.0
    total = 0.0
    for b, (start, L) in enumerate(seqs):
        blk = s[start:start + L]
        g = weights[b] if weights is not None else _loss_weights(
            s32[start:start + L], np.asarray(ids)[start:start + L], kind, counts,
            devices, device_limit)
        q = blk / blk.sum(axis=1, keepdims=True) if kind == "sequence" else blk
        total += alpha * float(np.dot(g, q.mean(axis=0)))
    return total / len(seqs)


def loss_weights_per_sequence(s, ids, kind, counts="selected", seq_len=0,
                              devices=0, device_limit=0):
    s32 = np.asarray(s, F32)
    return [_loss_weights(s32[a:a + L], np.asarray(ids)[a:a + L], kind, counts,
                          devices, device_limit)
            for a, L in _sequences(s32.shape[0], seq_len)]


def balance_loss_grad(s, ids, func, kind, alpha, counts="selected", seq_len=0,
                      devices=0, device_limit=0):
    """Analytic dL/dz (float64) with g constant."""
    s = np.asarray(s, np.float64)
    grad = np.zeros_like(s)
    seqs = _sequences(s.shape[0], seq_len)
    ws = loss_weights_per_sequence(s, ids, kind, counts, seq_len, devices,
                                   device_limit)
    for (start, L), g in zip(seqs, ws):
        c = alpha / (L * len(seqs))
        blk = s[start:start + L]
        if kind == "sequence":
            S = blk.sum(axis=1, keepdims=True)
            gq = (blk * g).sum(axis=1, keepdims=True) / S
            ds = c * (g - gq) / S
        else:
            ds = c * np.broadcast_to(g, blk.shape)
        if func == "sigmoid":
            dz = ds * blk * (1 - blk)
        else:
            dz = blk * (ds - (blk * ds).sum(axis=1, keepdims=True))
        grad[start:start + L] = dz
    return grad


def bias_update(bias, counts, rate):
    counts = np.asarray(counts, np.int64)
    diff = counts.sum() - len(counts) * counts
    bias = np.asarray(bias, F32)
    out = np.where(diff > 0, bias + F32(rate),
                   np.where(diff < 0, bias - F32(rate), bias))
    return out.astype(F32)


def dispatch_layout(ids, nodes, gpus_per_node, experts_per_gpu):
    ids = np.asarray(ids)
    R = nodes * gpus_per_node
    E = R * experts_per_gpu
    in_rank = np.zeros((ids.shape[0], R), bool)
    for t, row in enumerate(ids):
        for e in row:
            if 0 <= e < E:
                in_rank[t, e // experts_per_gpu] = True
    per_node = np.zeros(nodes, np.int32)
    for row in in_rank:
        for n in {r // gpus_per_node for r in np.nonzero(row)[0]}:
            per_node[n] += 1
    return (expert_counts(ids, E), in_rank.sum(axis=0).astype(np.int32), per_node,
            in_rank)


def capacity(T, K, E, cf):
    return math.ceil(T * K / E * cf)


def permute(x, ids, w, E, capacity_factor=None, policy="probs"):
    x = np.asarray(x)
    ids = np.asarray(ids)
    T, K = ids.shape
    keep = (ids >= 0) & (ids < E)
    if capacity_factor is not None:
        cap = capacity(T, K, E, capacity_factor)
        for e in range(E):
            slots = [(t, k) for t in range(T) for k in range(K) if ids[t, k] == e]
            if len(slots) <= cap:
                continue
            if policy == "probs":
                wv = np.array([w[t, k] for t, k in slots], F32)
                order = rank_order(wv)
                kept = {slots[i] for i in order[:cap]}
            else:
                kept = set(slots[:cap])
            for tk in slots:
                keep[tk] = tk in kept
    rows = np.zeros((T * K, x.shape[1]), x.dtype)
    row_map = np.full((T, K), -1, np.int32)
    counts = np.zeros(E, np.int64)
    for t in range(T):
        for k in range(K):
            if keep[t, k]:
                counts[ids[t, k]] += 1
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    fill = np.zeros(E, np.int64)
    for t in range(T):
        for k in range(K):
            if keep[t, k]:
                e = ids[t, k]
                r = offsets[e] + fill[e]
                fill[e] += 1
                row_map[t, k] = r
                rows[r] = x[t]
    return rows, row_map, offsets


def expert_ffn(rows, offsets, gate_up, down):
    rows = np.asarray(rows, F32)
    N = rows.shape[0]
    I = down.shape[2]
    out = np.zeros_like(rows)
    E = gate_up.shape[0]
    for e in range(E):
        if offsets is None:
            lo, hi = 0, N
        else:
            lo = min(max(int(offsets[e]), 0), N)
            hi = min(max(int(offsets[e + 1]), lo), N)
        for r in range(lo, hi):
            g = gate_up[e, :I].astype(np.float64) @ rows[r].astype(np.float64)
            u = gate_up[e, I:].astype(np.float64) @ rows[r].astype(np.float64)
            h = g / (1 + np.exp(-g)) * u
            out[r] = (down[e].astype(np.float64) @ h).astype(F32)
    return out


def combine(expert_out, row_map, w, shared=None):
    expert_out = np.asarray(expert_out, np.float64)
    T, K = row_map.shape
    out = np.zeros((T, expert_out.shape[1]))
    for t in range(T):
        for k in range(K):
            r = row_map[t, k]
            if 0 <= r < expert_out.shape[0]:
                out[t] += float(w[t, k]) * expert_out[r]
    if shared is not None:
        out += shared
    return out.astype(F32)


def resample_topk_near_ties(z, func, k, rng, gap=1e-5, scale=2.0):
    """Redraws the rows of the logits z whose k-th and (k+1)-th scores are
    within `gap` relative: there the plain top-k (the `topk` count source)
    is a near-tie that float rounding may settle either way, and a loss
    check would measure the tie instead of the kernel."""
    z = np.array(z, dtype=np.float32, copy=True)
    if z.shape[1] <= k:
        return z
    while True:
        zz = z.astype(np.float64)
        if func == "sigmoid":
            s = 1 / (1 + np.exp(-zz))
        else:
            e = np.exp(zz - zz.max(axis=1, keepdims=True))
            s = e / e.sum(axis=1, keepdims=True)
        part = -np.sort(-s, axis=1)[:, k - 1:k + 1]
        bad = np.abs(part[:, 0] - part[:, 1]) <= gap * np.abs(part[:, 0])
        if not bad.any():
            return z
        z[bad] = rng.normal(0.0, scale, size=(int(bad.sum()), z.shape[1])).astype(np.float32)


# ---------------------------------------------------------------------------
# Vectorised forms of the dispatch ops, for large token counts (the GPU
# benchmarks check against them; the tests hold them equal to the loops
# above and to the compiled CPU lowering).
# ---------------------------------------------------------------------------

def order_key(values):
    """uint32 keys that sort like the routing order (larger is better, NaN
    below every number, -0 == +0)."""
    v = np.asarray(values, F32) + F32(0)  # -0 -> +0
    u = v.view(np.uint32).astype(np.uint64)
    flip = np.where(u >> 31 == 1, np.uint64(0xFFFFFFFF), np.uint64(0x80000000))
    key = (u ^ flip).astype(np.uint32)
    return np.where(np.isnan(v), np.uint32(1), key)


def dispatch_layout_fast(ids, nodes, gpus_per_node, experts_per_gpu):
    ids = np.asarray(ids)
    T, K = ids.shape
    R = nodes * gpus_per_node
    E = R * experts_per_gpu
    valid = (ids >= 0) & (ids < E)
    tokens = np.broadcast_to(np.arange(T)[:, None], (T, K))
    in_rank = np.zeros((T, R), bool)
    in_rank[tokens[valid], ids[valid] // experts_per_gpu] = True
    in_node = in_rank.reshape(T, nodes, gpus_per_node).any(axis=2)
    return (expert_counts(ids, E), in_rank.sum(axis=0).astype(np.int32),
            in_node.sum(axis=0).astype(np.int32), in_rank)


def permute_indices(ids, w, E, capacity_factor=None, policy="probs"):
    """The index part of `permute`: (row_source_assignment, row_map,
    offsets); row r holds the input row of token row_source[r] // K."""
    ids = np.asarray(ids)
    T, K = ids.shape
    flat = ids.reshape(-1).astype(np.int64)
    keep = (flat >= 0) & (flat < E)
    if capacity_factor is not None and T * K:
        cap = capacity(T, K, E, capacity_factor)
        a = np.nonzero(keep)[0]
        e = flat[a]
        if policy == "probs":
            key = order_key(np.asarray(w, F32).reshape(-1)[a]).astype(np.int64)
            order = np.lexsort((a, -key, e))
        else:
            order = np.lexsort((a, e))
        es = e[order]
        rank = np.arange(len(es)) - np.searchsorted(es, es, side="left")
        keep[a[order[rank >= cap]]] = False
    kept = np.nonzero(keep)[0]
    ke = flat[kept]
    counts = np.bincount(ke, minlength=E)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    source = kept[np.lexsort((kept, ke))]
    row_map = np.full(T * K, -1, np.int32)
    row_map[source] = np.arange(len(source), dtype=np.int32)
    return source, row_map.reshape(T, K), offsets


def permute_fast(x, ids, w, E, capacity_factor=None, policy="probs"):
    x = np.asarray(x)
    T, K = np.asarray(ids).shape
    source, row_map, offsets = permute_indices(ids, w, E, capacity_factor, policy)
    rows = np.zeros((T * K,) + x.shape[1:], x.dtype)
    rows[:len(source)] = x[source // K]
    return rows, row_map, offsets


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(F32)


def f32_to_bf16_bits(values):
    """Round to nearest even; NaN stays a (quiet) NaN."""
    u = np.ascontiguousarray(values, F32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(values, F32))
    return np.where(nan, ((u >> 16) | 0x40).astype(np.uint16), rounded)


def combine_exact(expert_out, row_map, w, shared=None):
    """`combine` with the op's arithmetic: f32, each product and sum rounded,
    slots in order, then the shared output. float32 arrays in and out (bf16
    callers convert with the helpers above)."""
    rows = np.asarray(expert_out, F32)
    row_map = np.asarray(row_map)
    w = np.asarray(w, F32)
    T, K = row_map.shape
    acc = np.zeros((T, rows.shape[1]), F32)
    for k in range(K):
        r = row_map[:, k]
        valid = (r >= 0) & (r < rows.shape[0])
        if not valid.any():
            continue
        idx = np.nonzero(valid)[0]
        acc[idx] = acc[idx] + w[idx, k:k + 1] * rows[r[idx]]
    if shared is not None:
        acc = acc + np.asarray(shared, F32)
    return acc
