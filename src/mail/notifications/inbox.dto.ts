import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination.dto.js';
import type { MessageResponse } from '../chatter/threads.dto.js';

export class InboxQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'Only unread notifications', default: false })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  unread?: boolean;
}

export interface InboxItemResponse {
  id: string;
  read: boolean;
  read_at: string | null;
  created_at: string;
  message: MessageResponse;
}
