// Optional endpoints (live streaming, AI over transcripts) the page offers only when this server
// has them; the server lists its own routes in web/features.json.

export const features = {
  stream: false,
  ai: { summarize: false, chat: false, analyze: false, generate: false, translate: false },
};

export async function loadFeatures() {
  try {
    const response = await fetch(new URL('web/features.json', document.baseURI));
    if (!response.ok) return features;
    const found = await response.json();
    features.stream = Boolean(found.stream);
    features.ai.summarize = Boolean(found.summarize);
    features.ai.chat = Boolean(found.chat);
    features.ai.analyze = Boolean(found.analyze);
    features.ai.generate = Boolean(found.generate);
    features.ai.translate = Boolean(found.translate);
  } catch {
    // offline: the core pages still work, and each says what failed
  }
  return features;
}
