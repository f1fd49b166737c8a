// A small JPEG preview of an image, made on the sender's side so the receiver sees it before
// (and without) downloading the file. Nothing here touches the network.

const MAX_SIDE = 320;
const MAX_SOURCE_BYTES = 40 * 1024 * 1024;
const MAX_DATA_URL = 48 * 1024;

export async function makeThumbnail(file: Blob): Promise<string | undefined> {
  if (!/^image\/(png|jpeg|gif|webp|bmp)$/.test(file.type) || file.size > MAX_SOURCE_BYTES) return undefined;
  if (typeof createImageBitmap === 'undefined' || typeof OffscreenCanvas === 'undefined') return undefined;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    for (const quality of [0.75, 0.5, 0.3]) {
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const url = `data:image/jpeg;base64,${btoa(binary)}`;
      if (url.length <= MAX_DATA_URL) return url;
    }
  } catch {
    // Not decodable as an image: no preview.
  }
  return undefined;
}
