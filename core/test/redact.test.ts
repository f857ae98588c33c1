import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { redactUrl } from '@armature/core'

test('a password is replaced, everything else kept', () => {
  assert.is(redactUrl('amqp://guest:s3cret@broker:5672/vh?heartbeat=10'), 'amqp://guest:***@broker:5672/vh?heartbeat=10')
  assert.is(redactUrl('postgres://app:p%40ss@db.internal/orders'), 'postgres://app:***@db.internal/orders')
})

test('a URL without a password is shown as it is', () => {
  assert.is(redactUrl('postgres://postgres@127.0.0.1:5432/test'), 'postgres://postgres@127.0.0.1:5432/test')
})

test('what does not parse is never echoed', () => {
  assert.is(redactUrl('::not a url::'), '<invalid url>')
  assert.is(redactUrl('%%%', '(unparsable DATABASE_URL)'), '(unparsable DATABASE_URL)')
})

test.run()
