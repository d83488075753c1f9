import torch
from torch import nn
class Model(nn.Module):
    def forward(self, x):
        return torch.relu(torch.as_tensor(x)) * 2
def get_inputs():
    return [object()]
