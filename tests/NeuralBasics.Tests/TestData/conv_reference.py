"""Reference values for the convolution and max-pooling layers, computed with PyTorch.

Run once (Debian: sudo apt-get install python3-torch) from this folder:

    /usr/bin/python3 conv_reference.py > conv-reference.json

Every case draws its input, weights, bias and upstream gradient from a seeded generator in float64,
runs torch.nn.functional.conv2d / max_pool2d and autograd, and writes everything in NeuralBasics'
layout: an image row is channels-last (height, width, channel); a convolution's weights are a
(kernel height * kernel width * in-channels) x out-channels matrix with rows in (dy, dx, c) order.
"""
import json

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def hwc(t):
    """N x C x H x W -> N rows of H*W*C values, channels last."""
    return t.permute(0, 2, 3, 1).reshape(t.shape[0], -1).tolist()


def conv_case(name, seed, batch, channels, height, width, filters, kernel, stride, padding):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, height, width, generator=g, requires_grad=True)
    w = torch.randn(filters, channels, kernel, kernel, generator=g, requires_grad=True)
    b = torch.randn(filters, generator=g, requires_grad=True)
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    dy = torch.randn(y.shape, generator=g)
    y.backward(dy)
    # W as (dy, dx, c) x filters: K x C x kh x kw -> kh x kw x C x K.
    as_matrix = lambda t: t.permute(2, 3, 1, 0).reshape(-1, t.shape[0]).tolist()
    return {
        "name": name, "kind": "conv2d", "batch": batch, "channels": channels, "height": height, "width": width,
        "filters": filters, "kernel": kernel, "stride": stride, "padding": padding,
        "outHeight": y.shape[2], "outWidth": y.shape[3],
        "input": hwc(x.detach()), "weights": as_matrix(w.detach()), "bias": b.detach().tolist(),
        "output": hwc(y.detach()), "outputGradient": hwc(dy),
        "inputGradient": hwc(x.grad), "weightsGradient": as_matrix(w.grad), "biasGradient": b.grad.tolist(),
    }


def pool_case(name, seed, batch, channels, height, width, size):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, height, width, generator=g, requires_grad=True)
    y = F.max_pool2d(x, size)
    dy = torch.randn(y.shape, generator=g)
    y.backward(dy)
    return {
        "name": name, "kind": "maxpool2d", "batch": batch, "channels": channels, "height": height, "width": width,
        "size": size, "outHeight": y.shape[2], "outWidth": y.shape[3],
        "input": hwc(x.detach()), "output": hwc(y.detach()), "outputGradient": hwc(dy), "inputGradient": hwc(x.grad),
    }


cases = [
    conv_case("one channel, 3x3, padding 1", 1, 2, 1, 5, 5, 2, 3, 1, 1),
    conv_case("three channels, stride 2, no padding, odd sizes", 2, 2, 3, 7, 6, 4, 3, 2, 0),
    conv_case("2x2 kernel, stride 2, padding 1", 3, 1, 2, 6, 5, 3, 2, 2, 1),
    conv_case("batch of one, 5x5 kernel, padding 2", 4, 1, 2, 5, 4, 2, 5, 1, 2),
    pool_case("2x2 pool, even sizes", 5, 2, 3, 6, 4, 2),
    pool_case("2x2 pool, odd sizes (the last row and column dropped)", 6, 1, 2, 5, 7, 2),
    pool_case("3x3 pool, one channel", 7, 2, 1, 6, 6, 3),
    pool_case("2x2 pool, nine channels (vectors and a remainder)", 8, 2, 9, 4, 6, 2),
    conv_case("many channels in and out", 9, 2, 9, 5, 5, 17, 3, 1, 1),
]
print(json.dumps({"torch": torch.__version__, "cases": cases}))
