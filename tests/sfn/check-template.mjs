// Checks a CloudFormation template written by `cwexport sfn` against the
// CloudFormation resource specification of @aws-cdk/aws-service-spec:
// every resource type exists, every property is one of its type's, required
// properties are present, values have the property's type (intrinsic
// functions stand for any type), and every Ref, Fn::GetAtt and Condition
// names something that exists.
//
// usage: node check-template.mjs TEMPLATE.yaml...   (exit 0 when all pass)
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';

const db = await loadAwsServiceSpec();
const SECTIONS = new Set(['AWSTemplateFormatVersion', 'Description', 'Parameters', 'Conditions',
  'Resources', 'Outputs', 'Metadata', 'Mappings', 'Transform', 'Rules']);
const RESOURCE_KEYS = new Set(['Type', 'Properties', 'Condition', 'DependsOn', 'DeletionPolicy',
  'UpdateReplacePolicy', 'Metadata']);
const PARAM_TYPES = new Set(['String', 'Number', 'List<Number>', 'CommaDelimitedList']);

function isIntrinsic(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

function checkTemplate(file) {
  const errors = [];
  const t = parse(readFileSync(file, 'utf8'));
  const err = (where, msg) => errors.push(`${file}: ${where}: ${msg}`);
  for (const k of Object.keys(t)) if (!SECTIONS.has(k)) err(k, 'not a template section');
  const params = t.Parameters || {};
  const conditions = t.Conditions || {};
  const resources = t.Resources || {};
  for (const [name, p] of Object.entries(params))
    if (!PARAM_TYPES.has(p.Type) && !String(p.Type).startsWith('AWS::'))
      err(`Parameters.${name}`, `unknown parameter type ${p.Type}`);
  const specs = {};

  const checkRefs = (where, v) => {
    if (Array.isArray(v)) return v.forEach((x, i) => checkRefs(`${where}[${i}]`, x));
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string' && !x.startsWith('AWS::') && !(x in params) &&
          !(x in resources))
        err(where, `Ref to unknown ${x}`);
      if (k === 'Fn::GetAtt') {
        const [res, att] = Array.isArray(x) ? x : String(x).split('.');
        const spec = specs[res];
        if (!spec) err(where, `Fn::GetAtt of unknown resource ${res}`);
        else if (!(att in (spec.attributes || {})))
          err(where, `${resources[res].Type} has no attribute ${att}`);
      }
      if (k === 'Fn::If' && !(x[0] in conditions)) err(where, `Fn::If on unknown condition ${x[0]}`);
      if (k === 'Fn::Sub' && typeof x === 'string')
        for (const m of x.matchAll(/\$\{([A-Za-z0-9:]+)(\.[A-Za-z]+)?\}/g))
          if (!m[1].startsWith('AWS::') && !(m[1] in params) && !(m[1] in resources))
            err(where, `Fn::Sub of unknown ${m[1]}`);
      checkRefs(`${where}.${k}`, x);
    }
  };

  const checkType = (where, type, v) => {
    if (isIntrinsic(v)) return;
    switch (type.type) {
      case 'string':
      case 'date-time':
        if (typeof v !== 'string') err(where, `wants a string, has ${JSON.stringify(v)}`);
        else if (type.allowedValues && !type.allowedValues.includes(v))
          err(where, `${v} is not one of ${type.allowedValues.join(', ')}`);
        return;
      case 'number':
      case 'integer':
        if (typeof v !== 'number' && !(typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)))
          err(where, `wants a number, has ${JSON.stringify(v)}`);
        return;
      case 'boolean':
        if (typeof v !== 'boolean' && v !== 'true' && v !== 'false')
          err(where, `wants a boolean, has ${JSON.stringify(v)}`);
        return;
      case 'json':
        if (typeof v !== 'object' && typeof v !== 'string') err(where, 'wants a JSON document');
        return;
      case 'array':
        if (!Array.isArray(v)) return err(where, 'wants a list');
        v.forEach((x, i) => checkType(`${where}[${i}]`, type.element, x));
        return;
      case 'map':
        if (!v || typeof v !== 'object' || Array.isArray(v)) return err(where, 'wants a map');
        for (const [k, x] of Object.entries(v)) checkType(`${where}.${k}`, type.element, x);
        return;
      case 'ref': {
        const def = db.get('typeDefinition', type.reference.$ref);
        return checkProps(where, def.properties, v);
      }
      case 'union': {
        const before = errors.length;
        for (const alt of type.types) {
          const mark = errors.length;
          checkType(where, alt, v);
          if (errors.length === mark) {
            errors.length = before;
            return;
          }
          errors.length = mark;
        }
        return err(where, 'matches none of its types');
      }
      default:
        return;
    }
  };

  const checkProps = (where, props, v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return err(where, 'wants an object');
    for (const [k, x] of Object.entries(v)) {
      if (!(k in props)) err(`${where}.${k}`, 'no such property');
      else checkType(`${where}.${k}`, props[k].type, x);
    }
    for (const [k, p] of Object.entries(props))
      if (p.required && !(k in v)) err(where, `required property ${k} is missing`);
  };

  for (const [name, r] of Object.entries(resources)) {
    const spec = db.lookup('resource', 'cloudFormationType', 'equals', r.Type);
    if (spec.length !== 1) {
      err(`Resources.${name}`, `unknown resource type ${r.Type}`);
      continue;
    }
    specs[name] = spec[0];
  }
  for (const [name, r] of Object.entries(resources)) {
    for (const k of Object.keys(r)) if (!RESOURCE_KEYS.has(k)) err(`Resources.${name}.${k}`, 'not a resource attribute');
    if (r.Condition && !(r.Condition in conditions)) err(`Resources.${name}`, `unknown condition ${r.Condition}`);
    if (specs[name]) checkProps(`Resources.${name}.Properties`, specs[name].properties, r.Properties || {});
  }
  checkRefs('Conditions', conditions);
  checkRefs('Resources', resources);
  checkRefs('Outputs', t.Outputs || {});
  return errors;
}

let bad = 0;
for (const file of process.argv.slice(2)) {
  const errors = checkTemplate(file);
  for (const e of errors) console.error(e);
  if (errors.length) bad++;
  else console.log(`${file}: valid against the CloudFormation resource specification`);
}
process.exit(bad ? 1 : 0);
