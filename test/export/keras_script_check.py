"""Reads an exported Keras script with Python's ast, without running it (TensorFlow is not
installed here), and compares its model definition and compile() call with the Keras JSON and
the compile settings Strata holds: for test/export/keras.test.ts.

    python keras_script_check.py model.py model.json settings.json   # prints {"layers": [...], "failures": [...]}

Every layer call must have the JSON layer's class and config as keyword arguments; it may
leave out only what Keras fills in itself (null values, float32, channels_last, trainable,
mask_zero=False, the input shape, DepthwiseConv2D's groups=1, tf.keras 2.x's time_major=False,
the recurrent layers' implementation, MultiHeadAttention's recorded shapes); a layer inside
another's config (Bidirectional) must be that layer's constructor, a model used as a layer the
call of a build_<name>() function that defines it. Functional calls must take
the tensors the JSON's inbound_nodes name (layer, call and output index) and its call
kwargs (tensors such as MultiHeadAttention's value and key, flags such as use_causal_mask),
and assign every output; Sequential layers must come in the JSON's order.
"""
import ast
import json
import re
import sys

OMITTABLE = {('trainable', True), ('dtype', 'float32'), ('data_format', 'channels_last'), ('mask_zero', False), ('time_major', False)}
# the input's shape; no Keras 3 argument (implementation changes nothing); MultiHeadAttention's shapes of its first call
OMITTABLE_KEYS = {'batch_input_shape', 'input_length', 'name', 'implementation', 'query_shape', 'key_shape', 'value_shape'}


def dotted(node):
    """'keras.Input' for keras.Input; '' for what is not a dotted name (a call's result)."""
    if isinstance(node, ast.Attribute):
        return f'{dotted(node.value)}.{node.attr}'
    return node.id if isinstance(node, ast.Name) else ''


def lists(value):
    if isinstance(value, (tuple, list)):
        return [lists(v) for v in value]
    if isinstance(value, dict):
        return {k: lists(v) for k, v in value.items()}
    return value


def argument(node):
    """A keyword argument's value: a literal, or a keras.* call as {class_name, config}."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [argument(item) for item in node.elts]
    if isinstance(node, ast.Call):
        return {'class_name': dotted(node.func).split('.')[-1], 'config': {k.arg: argument(k.value) for k in node.keywords}}
    return lists(ast.literal_eval(node))


def snake(name):
    return re.sub(r'([a-z])([A-Z])', r'\1_\2', re.sub(r'(.)([A-Z][a-z]+)', r'\1_\2', name)).lower()


def same_initializer(script, expected):
    config = {k: v for k, v in expected['config'].items() if v is not None}
    if isinstance(script, str):
        return not config and script == snake(expected['class_name'])
    return script['class_name'] == expected['class_name'] and script['config'] == config


def compare_layer(where, class_name, kwargs, entry, failures):
    if class_name != entry['class_name']:
        failures.append(f'{where}: class {class_name}, the JSON has {entry["class_name"]}')
    config = entry['config']
    for key, value in kwargs.items():
        if key not in config:
            failures.append(f'{where}: argument {key} is not in the JSON config')
        elif key in ('layer', 'backward_layer') and isinstance(value, dict) and 'class_name' in value:
            compare_layer(f'{where}.{key}', value['class_name'], value['config'], config[key], failures)
        elif key.endswith('_initializer') and isinstance(config[key], dict):
            if not same_initializer(value, config[key]):
                failures.append(f'{where}: {key} {value!r}, the JSON has {config[key]!r}')
        elif value != config[key]:
            failures.append(f'{where}: {key} {value!r}, the JSON has {config[key]!r}')
    for key, value in config.items():
        omittable = value is None or any(key == k and value == v for k, v in OMITTABLE) or key in OMITTABLE_KEYS or (key == 'groups' and class_name == 'DepthwiseConv2D' and value == 1)
        if key not in kwargs and not omittable:
            failures.append(f'{where}: the JSON config has {key}={value!r}, the script leaves it out')
    if kwargs.get('name') != config['name']:
        failures.append(f'{where}: name {kwargs.get("name")!r}, the JSON has {config["name"]!r}')


def layer_constructor(node):
    """(class name, kwargs) of `layers.X(...)`, or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dotted(node.func).startswith('layers.'):
        return node.func.attr, {k.arg: argument(k.value) for k in node.keywords}
    return None


def nested_model(node, functions):
    """(builder name, {'name': the model's name}) of a `build_<name>()` call, or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions and not node.args:
        returned = functions[node.func.id].body[-1].value
        return node.func.id, {'name': next((argument(k.value) for k in returned.keywords if k.arg == 'name'), None)}
    return None


def check_input(where, call, entry, failures):
    kwargs = {k.arg: argument(k.value) for k in call.keywords}
    shape = entry['config']['batch_input_shape']
    if dotted(call.func) != 'keras.Input' or kwargs.get('shape') != shape[1:] or kwargs.get('dtype', 'float32') != entry['config'].get('dtype', 'float32'):
        failures.append(f'{where}: {ast.unparse(call)} is not the JSON input {entry["config"]}')


def check_sequential(returned, expected, failures):
    items = returned.args[0].elts
    entries = expected['config']['layers']
    if len(items) != len(entries):
        failures.append(f'Sequential: {len(items)} entries, the JSON has {len(entries)}')
    check_input('input', items[0], entries[0], failures)
    names = []
    for item, entry in zip(items[1:], entries[1:]):
        class_name, kwargs = layer_constructor(item)
        names.append(kwargs.get('name'))
        compare_layer(kwargs.get('name'), class_name, kwargs, entry, failures)
    return names


def check_nested(where, function, entry, failures, functions):
    """A model used as a layer: its build_<name>() must define the JSON entry's model."""
    returned = function.body[-1].value
    if dotted(returned.func) == 'keras.Sequential':
        if entry['class_name'] != 'Sequential':
            failures.append(f'{where}: a Sequential for a {entry["class_name"]} model')
        check_sequential(returned, entry, failures)
    else:
        check_functional(function, entry, failures, functions)
    name = next((argument(k.value) for k in returned.keywords if k.arg == 'name'), None)
    if name != entry['config']['name']:
        failures.append(f'{where}: the model is named {name!r}, the JSON has {entry["config"]["name"]!r}')


def check_functional(build, expected, failures, functions):
    entries = {entry['config']['name']: entry for entry in expected['config']['layers']}
    produced = {}  # variable -> (layer name, node index, output index)
    shared = {}  # variable -> (class name, kwargs) of a layer called several times
    calls = {}  # layer name -> calls so far
    names = []
    for statement in build.body:
        if isinstance(statement, ast.Return):
            returned = statement.value
            break
        target, value = statement.targets[0], statement.value
        targets = [t.id for t in target.elts] if isinstance(target, ast.Tuple) else [target.id]
        if isinstance(value, ast.Call) and dotted(value.func) == 'keras.Input':
            name = {k.arg: argument(k.value) for k in value.keywords}['name']
            check_input(name, value, entries[name], failures)
            produced[targets[0]] = (name, 0, 0)
            names.append(name)
            continue
        if layer_constructor(value) or nested_model(value, functions):
            shared[targets[0]] = layer_constructor(value) or nested_model(value, functions)
            continue
        class_name, kwargs = shared[value.func.id] if isinstance(value.func, ast.Name) else layer_constructor(value.func) or nested_model(value.func, functions)
        name = kwargs['name']
        node = calls.get(name, 0)
        calls[name] = node + 1
        if node == 0:
            names.append(name)
            if class_name in functions:
                check_nested(name, functions[class_name], entries[name], failures, functions)
            else:
                compare_layer(name, class_name, kwargs, entries[name], failures)
        inbound = entries[name]['inbound_nodes'][node]
        argument_nodes = value.args[0].elts if isinstance(value.args[0], ast.List) else [value.args[0]]
        got = [list(produced[a.id]) for a in argument_nodes]
        want = [[source, index, tensor] for source, index, tensor, *_ in inbound]
        if got != want:
            failures.append(f'{name} call {node}: takes {got}, the JSON has {want}')
        got_kwargs = {k.arg: list(produced[k.value.id]) if isinstance(k.value, ast.Name) else ast.literal_eval(k.value) for k in value.keywords}
        want_kwargs = inbound[0][3] if len(inbound[0]) > 3 else {}
        if got_kwargs != want_kwargs:
            failures.append(f'{name} call {node}: call arguments {got_kwargs}, the JSON has {want_kwargs}')
        for tensor, variable in enumerate(targets):
            produced[variable] = (name, node, tensor)
    refs = lambda n: [list(produced[e.id]) for e in (n.elts if isinstance(n, ast.List) else [n])]
    kwargs = {k.arg: k.value for k in returned.keywords}
    for key, json_key in (('inputs', 'input_layers'), ('outputs', 'output_layers')):
        want = [[name, index, tensor] for name, index, tensor in expected['config'][json_key]]
        if refs(kwargs[key]) != want:
            failures.append(f'keras.Model {key}: {refs(kwargs[key])}, the JSON has {want}')
    return names


def check_compile(tree, settings, failures):
    function = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == 'compile_model')
    call = next(n for n in ast.walk(function) if isinstance(n, ast.Call) and dotted(n.func) == 'model.compile')
    kwargs = {k.arg: k.value for k in call.keywords}
    optimizer = argument(kwargs['optimizer'])
    want = settings['optimizer']
    rate = want['config']['learning_rate']
    if isinstance(rate, dict):
        rate = {'class_name': rate['class_name'], 'config': {k: v for k, v in rate['config'].items() if k != 'name'}}
    if optimizer != {'class_name': want['class_name'], 'config': {**want['config'], 'learning_rate': rate}}:
        failures.append(f'optimizer {optimizer}, the model has {want}')
    losses = argument(kwargs['loss'])
    losses = losses if isinstance(losses, list) else [losses]
    for got, spec in zip(losses, settings['losses']):
        if spec['from_logits']:
            ok = isinstance(got, dict) and got['config'] == {'from_logits': True} and snake(got['class_name']) == spec['loss']
        else:
            ok = got == spec['loss']
        if not ok:
            failures.append(f'loss {got!r} for output {spec["output"]}, the model has {spec}')
    if len(losses) != len(settings['losses']):
        failures.append(f'{len(losses)} losses for {len(settings["losses"])} outputs')


def main():
    script, model_json, settings_json = sys.argv[1:]
    tree = ast.parse(open(script).read())
    expected = json.load(open(model_json))
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith('build_') and f.name != 'build_model'}
    build = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == 'build_model')
    failures = []
    returned = build.body[-1].value
    if dotted(returned.func) == 'keras.Sequential':
        if expected['class_name'] != 'Sequential':
            failures.append(f'a Sequential script for a {expected["class_name"]} model')
        names = check_sequential(returned, expected, failures)
    else:
        names = check_functional(build, expected, failures, functions)
    check_compile(tree, json.load(open(settings_json)), failures)
    print(json.dumps({'layers': names, 'failures': failures}))


main()
