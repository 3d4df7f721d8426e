// AudioWorklet: microphone samples (float, at the context's rate) → 16 kHz mono PCM Int16 chunks
// of 100 ms, posted to the page, which sends them over the WebSocket, with their level (RMS).

const TARGET_RATE = 16000;
const CHUNK = 1600; // 16 kHz samples per message (100 ms)

class PcmWriter extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // `sampleRate` is the context's (a worklet global)
    this.position = 0; // next output sample, in input samples from this block's start
    this.last = 0; // the previous block's last sample (index -1 of this block)
    this.buffer = new Int16Array(CHUNK);
    this.filled = 0;
    this.energy = 0;
  }

  push(value) {
    const v = Math.max(-1, Math.min(1, value));
    this.energy += v * v;
    this.buffer[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
    if (this.filled === CHUNK) {
      const pcm = this.buffer.slice().buffer;
      this.port.postMessage({ pcm, level: Math.sqrt(this.energy / CHUNK) }, [pcm]);
      this.filled = 0;
      this.energy = 0;
    }
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel || !channel.length) return true;
    const at = (k) => (k < 0 ? this.last : channel[k]);
    // Linear interpolation between neighbouring input samples (exact copy when the rates match).
    while (this.position < channel.length - 1) {
      const i = Math.floor(this.position);
      const frac = this.position - i;
      this.push(at(i) + (at(i + 1) - at(i)) * frac);
      this.position += this.step;
    }
    this.position -= channel.length;
    this.last = channel[channel.length - 1];
    return true;
  }
}

registerProcessor('pcm-writer', PcmWriter);
