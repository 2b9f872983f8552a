import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTranslatable } from '../../src/mail/chatter/translatable.js';
import { I18nService } from '../../src/i18n/i18n.service.js';

describe('translatable texts', () => {
  const i18n = new I18nService();

  it('renders plain strings as written, keys with their arguments, lists as lines', () => {
    assert.equal(renderTranslatable(i18n, 'as written', 'fr'), 'as written');
    assert.equal(renderTranslatable(i18n, null, 'fr'), null);
    assert.equal(
      renderTranslatable(i18n, [{ key: 'environment.table.fail' }, 'second line'], 'nl'),
      'MISLUKT\nsecond line',
    );
  });

  it('renders translatable arguments in the same language', () => {
    const text = {
      key: 'environment.database.too_old',
      args: { version: { key: 'environment.table.fail' }, min: 13 },
    };
    assert.equal(renderTranslatable(i18n, text, 'en'), 'PostgreSQL FAIL is too old: Vigil needs 13 or later');
    assert.match(renderTranslatable(i18n, text, 'nl'), /MISLUKT/);
  });
});
