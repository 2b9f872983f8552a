import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

export class StatusPagePublicDto {
  @ApiProperty({ description: 'List the page at the public index /status' })
  @IsBoolean()
  public!: boolean;
}
