import torch
from torch import nn
class Model(nn.Module):
    def forward(self, x):
        raise ValueError("forward is broken")
def get_inputs():
    return [torch.randn(8, 8)]
