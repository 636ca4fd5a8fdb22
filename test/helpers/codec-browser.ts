import type { Page } from 'playwright-core';

/**
 * What an operator does once per browser so the Temporal UI shows decrypted payloads: points the
 * UI's codec setting (what its "Codec Server" dialog stores) at this API's /codec with credentials,
 * and signs in at /codec/session with the operator key. Pages of the UI opened afterwards decode.
 */
export async function useCodecServer(page: Page, { uiUrl, apiUrl, operatorKey, signIn = true }: { uiUrl: string; apiUrl: string; operatorKey: string; signIn?: boolean }): Promise<void> {
  const endpoint = JSON.stringify(`${apiUrl}/codec`);
  await page.addInitScript(`if (location.origin === ${JSON.stringify(uiUrl)}) {
    localStorage.setItem('endpoint', ${JSON.stringify(endpoint)});
    localStorage.setItem('includeCredentials', 'true');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
  }`);
  if (signIn) await signInToCodecServer(page, apiUrl, operatorKey);
}

export async function signInToCodecServer(page: Page, apiUrl: string, operatorKey: string): Promise<void> {
  await page.goto(`${apiUrl}/codec/session`);
  await page.fill('#k', operatorKey);
  await page.click('button');
  await page.getByText('Signed in').waitFor({ timeout: 10_000 });
}
