import { Body, Param, ParseIntPipe } from '@nestjs/common';
import { ThreadsService } from '../mail/chatter/threads.service.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { localPath } from './web-page.service.js';
import { WebController, WebForm, type WebRedirect } from './web.decorators.js';
import { AddFollowerFormDto, BackFormDto, PostMessageFormDto } from './web.dto.js';

/** Where a chatter form sends the browser back to: the page it came from (htmx then swaps the chatter). */
const back = (form: BackFormDto): WebRedirect => ({
  url: `${localPath(form.next)?.split('#')[0] ?? '/web'}#chatter`,
});

/** The chatter's forms, for any thread: post a message or note, follow and unfollow. Same rules as the API. */
@WebController('web/threads/:model/:id')
export class WebThreadsController {
  constructor(private readonly threads: ThreadsService) {}

  @WebForm('messages')
  async post(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: PostMessageFormDto,
  ): Promise<WebRedirect> {
    await this.threads.postMessage(ctx, { model, id }, { body: form.body, type: form.type });
    return back(form);
  }

  @WebForm('followers')
  async follow(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: AddFollowerFormDto,
  ): Promise<WebRedirect> {
    await this.threads.addFollower(
      ctx,
      { model, id },
      { partner_id: form.partner_id, subtypes: form.subtypes },
    );
    return back(form);
  }

  @WebForm('followers/:partner_id/remove')
  async unfollow(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Param('partner_id', ParseIntPipe) partnerId: number,
    @Body() form: BackFormDto,
  ): Promise<WebRedirect> {
    await this.threads.removeFollower(ctx, { model, id }, partnerId);
    return back(form);
  }
}
