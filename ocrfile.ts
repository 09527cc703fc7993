// The build description of the sample collection: which pages exist, where their images and outputs
// are, and the rule that turns one into the other. `npx ocrmake build` reads this file.
import { defineOcrfile } from 'ocrmake';
import pageOcr from './rules/page_ocr.js';

export default defineOcrfile({
  pages: {
    // The labels of a first pass decide which pages exist; an image without a label is not a page.
    allowList: 'dataset/label_to_curricular/{state}/{school}/{year}/{page}.json',
    image: 'dataset/raw_image_dataset/{state}/{school}/{year}/{page}.{png,jpg}',
    order: 'page',
  },
  target: 'dataset/output_results/{state}/{school}/{year}/{page}.json',
  rule: pageOcr,
  // What each page really says, for `ocrmake eval` and `compare` (README "Measuring accuracy").
  groundTruth: 'dataset/ground_truth/{state}/{school}/{year}/{page}.txt',
  engine: 'auto',
  execution: { maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30 },
});
