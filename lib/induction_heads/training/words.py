"""The words of the toy language: readable Portuguese words, grouped by part of speech.

The corpus (``corpus.py``) only needs a fixed list of distinct words, but grouping them by part
of speech makes the generated text look like (broken) Portuguese instead of ids, and gives the
word classes of the toy language a meaning a reader can see.
"""

# substantivos
NOUNS = """
    casa gato cachorro mesa cadeira livro janela porta rua cidade campo rio mar praia montanha
    floresta árvore flor folha fruta maçã banana laranja uva pão queijo leite café chá água sopa
    arroz feijão bolo carne peixe ovo sal açúcar prato copo garfo faca colher panela forno fogão
    escola aluno professor caderno lápis caneta quadro aula prova lição página letra palavra
    história música canção baile festa jogo bola time quadra rede gol corrida canoa navio avião
    carro ônibus trem bicicleta estrada ponte viagem mapa mala hotel museu igreja praça mercado
    loja dinheiro preço feira parque jardim horta semente chuva vento sol lua estrela nuvem céu
    noite dia manhã tarde inverno verão outono primavera médico hospital remédio doença saúde
    corpo mão pé olho boca cabeça coração sangue osso dente cavalo vaca porco galinha pato
    coelho rato leão tigre macaco urso lobo raposa cobra sapo peixinho pássaro abelha formiga
    borboleta aranha mosca baleia tubarão polvo concha areia onda ilha barco
""".split()

# verbos (3a pessoa do singular)
VERBS = """
    come bebe corre anda pula dorme acorda canta dança lê escreve fala ouve vê olha abre fecha
    compra vende paga leva traz faz cozinha lava limpa joga ganha perde chuta nada voa sobe
    desce entra sai chega parte volta fica mora trabalha estuda ensina aprende pensa sabe quer
    pode gosta ama odeia procura encontra esconde mostra conta pergunta responde chama espera
    pega solta corta planta colhe rega cresce morre nasce vive brinca ri chora grita sonha sorri
""".split()

# adjetivos
ADJECTIVES = """
    grande pequeno bonito feio novo velho alto baixo gordo magro rápido lento forte fraco quente
    frio doce amargo salgado azedo limpo sujo cheio vazio claro escuro branco preto vermelho
    azul verde amarelo feliz triste calmo bravo alegre cansado rico pobre caro barato fácil
    difícil longe perto macio duro largo estreito fundo raso antigo moderno simples famoso
    sozinho juntos
""".split()

# advérbios
ADVERBS = """
    muito pouco sempre nunca hoje ontem amanhã agora depois antes aqui ali bem mal logo cedo
    devagar depressa ainda também
""".split()

# artigos, preposições, conjunções, pronomes
FUNCTION_WORDS = """
    o a os as um uma de do da em no na com sem para por e mas ou que se não ele ela eles elas
    nós eu você meu minha seu sua este esta esse essa
""".split()

PUNCTUATION = [".", ",", "?", "!"]

# topic words: the word at position 1 of a text, which decides the words it prefers
TOPICS = """
    culinária esportes natureza ensino viagens medicina animais clima
""".split()

SPECIAL_TOKENS = ["<bos>", "<unk>", "<pad>"]

# Every token of the vocabulary, in id order: the special tokens first.
VOCABULARY = SPECIAL_TOKENS + NOUNS + VERBS + ADJECTIVES + ADVERBS + FUNCTION_WORDS + PUNCTUATION + TOPICS

if len(set(VOCABULARY)) != len(VOCABULARY):  # pragma: no cover - guards edits of the lists above
    raise RuntimeError("the word lists of the toy language contain a duplicate")
