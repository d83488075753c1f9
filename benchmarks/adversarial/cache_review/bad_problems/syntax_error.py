class Model(nn.Module
