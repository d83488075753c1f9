import torch
from torch import nn
class Model(nn.Module):
    def __init__(self, a, b):
        super().__init__()
    def forward(self, x):
        return torch.relu(x) * 2
def get_inputs():
    return [torch.randn(8, 8)]
def get_init_inputs():
    return [1]
