import { Injectable } from '@nestjs/common';

/** Placeholder: mental models (being written). */
@Injectable()
export class MentalModelsService {
  start(): void {}
}
