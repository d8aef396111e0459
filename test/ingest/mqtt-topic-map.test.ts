// Topic map rules (PATTERN=>TEMPLATE): what they match, the sensor ids they make, the filters they subscribe, and the
// mistakes they refuse with a message naming the rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopicRule, TopicMap } from '../../src/ingest/mqtt/topic-map.js';
import { InvalidArgumentError } from '../../src/errors.js';

test('named levels are captured into the template; the level count must match', () => {
  const r = parseTopicRule('plant/{site}/{line}/{sensor}=>{site}.{line}.{sensor}');
  assert.equal(r.filter, 'plant/+/+/+');
  assert.equal(r.match('plant/north/l1/temp'), 'north.l1.temp');
  assert.equal(r.match('plant/north/l1'), null);
  assert.equal(r.match('plant/north/l1/temp/extra'), null);
  assert.equal(r.match('site/north/l1/temp'), null);
});

test('+ matches one level unnamed, a final # the rest (its parent too); {topic} is the whole topic', () => {
  const r = parseTopicRule('gw/+/{dev}/#=>{dev}@{topic}');
  assert.equal(r.filter, 'gw/+/+/#');
  assert.equal(r.match('gw/a/d1'), 'd1@gw/a/d1');
  assert.equal(r.match('gw/a/d1/x/y'), 'd1@gw/a/d1/x/y');
  assert.equal(r.match('gw/a'), null);
  // Wildcards do not match the broker's $-topics.
  assert.equal(parseTopicRule('+/{x}=>{x}').match('$SYS/uptime'), null);
});

test('the first matching rule wins; a topic no rule matches is its own sensor id', () => {
  const m = new TopicMap(['plant/{site}/temp=>{site}.temperature', 'plant/{site}/{sensor}=>{site}.{sensor}', 'plant/{a}/{b}=>dup']);
  assert.equal(m.sensorId('plant/north/temp'), 'north.temperature');
  assert.equal(m.sensorId('plant/north/flow'), 'north.flow');
  assert.equal(m.sensorId('other/topic'), 'other/topic');
  assert.deepEqual(m.filters(), ['plant/+/temp', 'plant/+/+']);
});

test('rules that cannot work are refused, naming the rule and the problem', () => {
  const bad: [string, RegExp][] = [
    ['plant/{site}', /expected PATTERN=>TEMPLATE/],
    ['=>{x}', /expected PATTERN=>TEMPLATE/],
    ['plant/{site}=>', /expected PATTERN=>TEMPLATE/],
    ['plant/{site}=>{sensor}', /uses \{sensor\}, which the pattern does not capture \(it captures \{site\}/],
    ['plant/#/x=>{topic}', /'#' may only be the last level/],
    ['plant/temp_{id}=>{id}', /level 'temp_\{id\}' mixes text/],
    ['plant/{a}/{a}=>{a}', /\{a\} is captured twice/],
  ];
  for (const [rule, message] of bad) {
    assert.throws(() => parseTopicRule(rule), (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message) && e.message.includes(rule), rule);
  }
});
