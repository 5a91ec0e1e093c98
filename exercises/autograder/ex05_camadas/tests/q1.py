from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=1, hidden=False)
def test_q1_example(best_score_per_layer):
    import torch
    from induction_heads.exercises.ex05_camadas.checks import check_best_per_layer
    scores = torch.tensor([[0.1, 0.9, 0.2, 0.3], [0.4, 0.0, 0.1, 0.2], [0.5, 0.6, 0.7, 0.0]])
    check_best_per_layer(best_score_per_layer, scores, [0.9, 0.4, 0.7])

@test_case(points=1, hidden=True)
def test_q1_random(best_score_per_layer):
    import torch
    from induction_heads.exercises.ex05_camadas.checks import check_best_per_layer
    g = torch.Generator().manual_seed(5)
    for n_layers, n_heads in ((4, 4), (6, 3), (1, 8), (12, 12)):
        scores = torch.rand(n_layers, n_heads, generator=g)
        expected = [max(row) for row in scores.tolist()]
        check_best_per_layer(best_score_per_layer, scores, expected)

