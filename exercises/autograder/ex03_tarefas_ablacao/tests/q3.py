from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(acc_recall_limpo, acc_recall_inducao, acc_recall_controle, acc_padrao_limpo, acc_padrao_inducao, acc_padrao_controle, icl_limpo, icl_inducao, icl_controle):
    from induction_heads.grading.checks import fail, require_answer
    values = {'acc_recall_limpo': acc_recall_limpo, 'acc_recall_inducao': acc_recall_inducao, 'acc_recall_controle': acc_recall_controle, 'acc_padrao_limpo': acc_padrao_limpo, 'acc_padrao_inducao': acc_padrao_inducao, 'acc_padrao_controle': acc_padrao_controle, 'icl_limpo': icl_limpo, 'icl_inducao': icl_inducao, 'icl_controle': icl_controle}
    for name, value in values.items():
        require_answer(name, value)
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(f'`{name}` deveria ser um número, mas é {value!r}.')
        if name.startswith('acc') and (not 0 <= value <= 1):
            fail(f'`{name}` é uma acurácia: fica entre 0 e 1, não {value}.')

@test_case(points=1, hidden=True)
def test_q3_recall(acc_recall_limpo, acc_recall_inducao, acc_recall_controle):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import task_measurements
    from induction_heads.grading.checks import expect_close
    m = task_measurements(2)
    for name, value, group in (('acc_recall_limpo', acc_recall_limpo, 'clean'), ('acc_recall_inducao', acc_recall_inducao, 'induction'), ('acc_recall_controle', acc_recall_controle, 'random')):
        hint = None
        if group != 'clean' and value is not None and (abs(float(value) - m['recall', 'clean']) < 1e-09) and (abs(m['recall', group] - m['recall', 'clean']) > 0.02):
            hint = 'Esse é o valor sem ablação: meça dentro do bloco `with ablate_heads(...)`.'
        expect_close(f'`{name}`', value, m['recall', group], 0.02, hint=hint)

@test_case(points=1, hidden=True)
def test_q3_pattern(acc_padrao_limpo, acc_padrao_inducao, acc_padrao_controle):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import task_measurements
    from induction_heads.grading.checks import expect_close
    m = task_measurements(2)
    for name, value, group in (('acc_padrao_limpo', acc_padrao_limpo, 'clean'), ('acc_padrao_inducao', acc_padrao_inducao, 'induction'), ('acc_padrao_controle', acc_padrao_controle, 'random')):
        expect_close(f'`{name}`', value, m['pattern', group], 0.02, hint='Use `tarefas["pattern"]`, a tarefa de padrão abstrato.')

@test_case(points=1, hidden=True)
def test_q3_icl(icl_limpo, icl_inducao, icl_controle):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import task_measurements
    from induction_heads.grading.checks import expect_close
    m = task_measurements(2)
    for name, value, group in (('icl_limpo', icl_limpo, 'clean'), ('icl_inducao', icl_inducao, 'induction'), ('icl_controle', icl_controle, 'random')):
        expect_close(f'`{name}`', value, m['icl', group], 0.01, hint='É a pontuação na `sonda` com early = 10 e late = 100 (perda no token 100 menos perda no token 10), medida dentro do bloco de ablação.')

