Model = 42
def get_inputs():
    return []
