from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(acc_2l, acc_1l, cabecas_inducao, acc_2l_ablacao):
    from induction_heads.grading.checks import fail, require_answer
    from induction_heads.grading.checks_extra import as_heads
    for name, value in (('acc_2l', acc_2l), ('acc_1l', acc_1l), ('acc_2l_ablacao', acc_2l_ablacao)):
        require_answer(name, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma acurácia (um número entre 0 e 1), mas é {value!r}.')
    as_heads('cabecas_inducao', cabecas_inducao)

@test_case(points=1, hidden=True)
def test_q3_models(acc_2l, acc_1l):
    from induction_heads.exercises.ex01_few_shot.checks import recall_accuracies
    from induction_heads.grading.checks import expect_close
    acc = recall_accuracies()
    hint = 'Use a tarefa `task` da célula de cima, sem mudar a semente, e `task_accuracy(modelo, task)` fora de qualquer bloco de ablação.'
    expect_close('`acc_2l`', acc_2l, acc['toy-2l'], 0.02, hint=hint)
    expect_close('`acc_1l`', acc_1l, acc['toy-1l'], 0.02, hint=hint)

@test_case(points=1, hidden=True)
def test_q3_heads(cabecas_inducao):
    from induction_heads import prefix_matching_scores, repeated_tokens, top_heads
    from induction_heads.grading.checks_extra import expect_heads, reference_model
    model, tok = reference_model('toy-2l')
    scores = prefix_matching_scores(model, repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0))
    expect_heads('cabecas_inducao', cabecas_inducao, top_heads(scores, k=3), hint='São as 3 de maior correspondência de prefixo no toy-2l (não no toy-1l), com a sonda indicada.')

@test_case(points=1, hidden=True)
def test_q3_ablation(acc_2l_ablacao):
    from induction_heads import ablate_heads, prefix_matching_scores, repeated_tokens, top_heads
    from induction_heads.exercises.ex01_few_shot.checks import recall_accuracies
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    from induction_heads.tasks import few_shot_task, task_accuracy
    model, tok = reference_model('toy-2l')
    scores = prefix_matching_scores(model, repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0))
    task = few_shot_task(tok, 'recall', n_examples=8, batch=64, seed=0)
    with ablate_heads(model, top_heads(scores, k=3)):
        expected = task_accuracy(model, task)
    clean = recall_accuracies()['toy-2l']
    hint = None
    if acc_2l_ablacao is not None and abs(float(acc_2l_ablacao) - clean) < 1e-09 and (abs(expected - clean) > 0.02):
        hint = 'Esse é o valor sem ablação: a acurácia precisa ser medida dentro do bloco `with ablate_heads(...)`.'
    expect_close('`acc_2l_ablacao`', acc_2l_ablacao, expected, 0.02, hint=hint)

