import { Injectable } from '@nestjs/common';

/** Placeholder: reflect (being written). */
@Injectable()
export class ReflectService {}
