import torch
from torch import nn
class Model(nn.Module):
    def forward(self, x):
        return x @ x[:3]
def get_inputs():
    return [torch.randn(8, 8)]
