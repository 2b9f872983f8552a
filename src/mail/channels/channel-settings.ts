import { defineSetting } from '../../settings/setting-definition.js';

/** Alert channels may reach loopback and private networks (on) or not (off, the default). */
export const ALLOW_PRIVATE_NETWORKS = defineSetting.boolean({
  key: 'mail.channels.allow_private_networks',
  default: false,
  description: 'core.settings.descriptions.mail_channels_allow_private_networks',
});

/** The web address links in alerts start with (none when empty), e.g. https://vigil.example.com. */
export const BASE_URL = defineSetting.url({
  key: 'web.base_url',
  default: '',
  optional: true,
  description: 'core.settings.descriptions.web_base_url',
});

export const MAIL_SETTINGS = [ALLOW_PRIVATE_NETWORKS, BASE_URL];
